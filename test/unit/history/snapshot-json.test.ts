import type { RunSnapshot } from '../../../src/domain/history/history-types';
import { canonicalJson, sameSnapshot, snapshotOf } from '../../../src/domain/history/snapshot';

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

describe('canonicalJson against a reference (JSON.stringify with every object rebuilt from its sorted keys)', () => {
  const reference = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    });

  /** Deterministic pseudo-random values: nested objects and arrays, integer-like keys, undefined, odd strings. */
  function generate(seed: number, depth: number): unknown {
    let x = seed;
    const next = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    const leaf = (): unknown => [null, undefined, next(1000) - 500, 1.5, 'a"b\\n\u2028é', true, false, NaN][next(8)];
    const build = (d: number): unknown => {
      if (d === 0) return leaf();
      if (next(3) === 0) return Array.from({ length: next(4) }, () => build(d - 1));
      const out: Record<string, unknown> = {};
      for (let i = next(5); i > 0; i -= 1) out[['b', 'a', '10', '9', 'Z', 'aa', '01', ''][next(8)]] = build(d - 1);
      return out;
    };
    return build(depth);
  }

  it('gives the same text for 500 generated values', () => {
    for (let seed = 1; seed <= 500; seed += 1) {
      const value = generate(seed, 4);
      expect([seed, canonicalJson(value)]).toEqual([seed, reference(value)]);
    }
  });

  it('gives the same text for a snapshot made from an assessment, rule records shared between techniques', () => {
    const rule = { id: 'r1', title: 'Rule 1', state: 'counted' as const, maturity: 'stable', source: 'sysmon' };
    const technique = (id: string) => ({
      techniqueId: id,
      stixId: `attack-pattern--${id}`,
      tested: true,
      detection: 60,
      prevention: 40,
      rules: ['r1'],
      evidence: { rules: [rule], dataSources: [{ id: 'sysmon', collected: true }], controls: [] },
    });
    const snapshot = snapshotOf({ backend: 'embedded', overall: [{ name: 'DETECTION', score: 60 }], techniques: [technique('T1059'), technique('T1003')] } as never);
    expect(canonicalJson(snapshot)).toBe(reference(snapshot));
    expect(canonicalJson(snapshot)).toBe(canonicalJson(snapshotOf({ backend: 'embedded', overall: [{ name: 'DETECTION', score: 60 }], techniques: [technique('T1059'), technique('T1003')] } as never)));
  });
});

describe('sameSnapshot (recognises a snapshot equal to the last one without its canonical text)', () => {
  const base = (): RunSnapshot => ({
    backend: 'embedded',
    overall: { DETECTION: 60 },
    techniques: [{ id: 'T1059', rules: ['r1'], controls: [], detection: 60, evidence: { rules: [{ id: 'r1', title: 'R', state: 'counted', maturity: 'stable' }], dataSources: [{ id: 'sysmon', collected: true }], controls: [] } }],
  });

  it('says equal exactly when the canonical JSON is equal, whatever the key order', () => {
    const reordered = base();
    reordered.techniques[0] = { evidence: reordered.techniques[0].evidence, controls: [], detection: 60, rules: ['r1'], id: 'T1059' } as RunSnapshot['techniques'][number];
    expect(sameSnapshot(base(), reordered)).toBe(true);
    expect(canonicalJson(base())).toBe(canonicalJson(reordered));
    const changes: Array<(s: RunSnapshot) => void> = [
      (s) => (s.techniques[0].detection = 59),
      (s) => (s.techniques[0].rules = ['r1', 'r2']),
      (s) => (s.overall = { DETECTION: 60, PREVENTION: 0 }),
      (s) => (s.techniques[0].evidence!.dataSources[0].collected = false),
      (s) => delete s.techniques[0].detection,
      (s) => (s.backend = 'openaev'),
    ];
    for (const change of changes) {
      const other = base();
      change(other);
      expect([String(change), sameSnapshot(base(), other)]).toEqual([String(change), false]);
      expect(canonicalJson(base()) === canonicalJson(other)).toBe(false);
    }
  });

  it('treats an undefined field as absent, as the canonical JSON does', () => {
    const other = base();
    other.techniques[0].prevention = undefined;
    expect(sameSnapshot(base(), other)).toBe(true);
  });
});

describe('snapshots of shared (frozen) technique outcomes', () => {
  const assessment = (detection: number) => ({ techniqueId: 't1059', name: 'Command', tested: true, detection, why: ['one rule'], rules: ['r2', 'r1', 'r1'], controls: [], source: 'embedded' });

  it('are made once per outcome, so two runs with the same outcomes compare by identity, and equal what a fresh one gives', () => {
    const shared = Object.freeze(assessment(70));
    const first = snapshotOf({ backend: 'embedded', overall: [{ name: 'Detection', score: 70 }], techniques: [shared] });
    const second = snapshotOf({ backend: 'embedded', overall: [{ name: 'Detection', score: 70 }], techniques: [shared] });
    expect(second.techniques[0]).toBe(first.techniques[0]);
    expect(Object.isFrozen(first.techniques[0])).toBe(true);
    const fresh = snapshotOf({ backend: 'embedded', overall: [{ name: 'Detection', score: 70 }], techniques: [assessment(70)] });
    expect(canonicalJson(fresh)).toBe(canonicalJson(first));
    expect(fresh.techniques[0]).not.toBe(first.techniques[0]);
    expect(first.techniques[0].rules).toEqual(['r1', 'r2']);
  });

  it('of an outcome a caller may still change are made anew each time (no stale copy)', () => {
    const own = assessment(70);
    const before = snapshotOf({ backend: 'embedded', overall: [], techniques: [own] });
    own.detection = 20;
    const after = snapshotOf({ backend: 'embedded', overall: [], techniques: [own] });
    expect(before.techniques[0].detection).toBe(70);
    expect(after.techniques[0].detection).toBe(20);
    expect(sameSnapshot(before, after)).toBe(false);
  });
});
