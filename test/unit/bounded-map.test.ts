import { addBounded, setBounded } from '../../src/domain/bounded-map';

describe('bounded maps and sets', () => {
  it('keeps at most max entries, dropping the oldest; a key set again counts as the newest', () => {
    const m = new Map<string, number>();
    for (const k of ['a', 'b', 'c']) expect(setBounded(m, k, k.charCodeAt(0), 3)).toBe(k.charCodeAt(0));
    setBounded(m, 'a', 1, 3);
    setBounded(m, 'd', 4, 3);
    expect([...m.keys()]).toEqual(['c', 'a', 'd']);
    expect(m.get('a')).toBe(1);
  });

  it('bounds a set the same way', () => {
    const s = new Set<number>();
    for (const v of [1, 2, 3, 1, 4]) addBounded(s, v, 3);
    expect([...s]).toEqual([3, 1, 4]);
  });
});
