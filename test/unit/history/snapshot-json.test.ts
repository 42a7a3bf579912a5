import { canonicalJson } from '../../../src/domain/history/snapshot';

describe('canonicalJson (the text a history snapshot is hashed and stored as)', () => {
  it('sorts the keys of every object, nested in objects and arrays', () => {
    expect(canonicalJson({ z: { y: 1, x: [{ b: 2, a: 1 }] }, a: [3, { d: 1, c: 2 }] })).toBe('{"a":[3,{"c":2,"d":1}],"z":{"x":[{"a":1,"b":2}],"y":1}}');
  });

  it('gives the same text for equal values built in any key order', () => {
    const one = { techniques: [{ id: 'T1059', rules: ['r1'], evidence: { rules: [{ title: 't', id: 'r1' }] } }], overall: { DETECTION: 70 } };
    const other = { overall: { DETECTION: 70 }, techniques: [{ evidence: { rules: [{ id: 'r1', title: 't' }] }, rules: ['r1'], id: 'T1059' }] };
    expect(canonicalJson(one)).toBe(canonicalJson(other));
  });

  it('serialises like JSON.stringify otherwise: undefined left out of objects and null in arrays, Dates through toJSON, non-finite numbers as null', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, new Date(0), NaN, Infinity], c: null })).toBe('{"a":[null,"1970-01-01T00:00:00.000Z",null,null],"c":null}');
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson([])).toBe('[]');
  });

  it('leaves a value it serialises untouched', () => {
    const value = { b: { d: 1, c: 2 }, a: 1 };
    canonicalJson(value);
    expect(Object.keys(value)).toEqual(['b', 'a']);
    expect(Object.keys(value.b)).toEqual(['d', 'c']);
  });
});
