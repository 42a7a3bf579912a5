import { rowsForTechnique, scoreTechniques, type ResolvedPatternResults } from '../../../src/adapters/openaev/openaev-results';
import type { OpenAevResultsByType } from '../../../src/adapters/openaev/openaev-client';

function results(type: string, success: number, partial: number, pending: number, failed: number): OpenAevResultsByType {
  return {
    type,
    distribution: [
      { id: 'SUCCESS', value: success },
      { id: 'PENDING', value: pending },
      { id: 'PARTIAL', value: partial },
      { id: 'FAILED', value: failed },
    ],
  };
}

const sim = { id: 'sim-1', name: 'Daily run', startedAt: '2026-02-12T09:00:00.000Z', uri: 'https://openaev/admin/simulations/sim-1' };

describe('OpenAEV results to technique scores', () => {
  it('scores success over every counted expectation, partial and pending lowering it (1 of 4 → 25)', () => {
    const rows: ResolvedPatternResults[] = [{ externalId: 'T1234', injects: [{ injectId: 'i1', title: 'Run thing', results: [results('DETECTION', 1, 1, 1, 1)] }] }];
    const [t] = scoreTechniques([{ techniqueId: 'T1234' }], rows, sim);
    expect(t).toMatchObject({ techniqueId: 'T1234', tested: true, detection: 25, source: 'openaev', externalUri: sim.uri });
    expect(t.prevention).toBeUndefined();
    expect(t.why[0]).toMatch(/^DETECTION 25: 1\/4 expectations detected \(1 partial, 1 pending, 1 failed\)/);
  });

  it('reproduces the reference worked example: T1234 100/100, T5678 0/0', () => {
    const rows: ResolvedPatternResults[] = [
      { externalId: 'T1234', injects: [{ injectId: 'a', results: [results('PREVENTION', 1, 0, 0, 0), results('DETECTION', 1, 0, 0, 0)] }] },
      { externalId: 'T5678', injects: [{ injectId: 'b', results: [results('PREVENTION', 0, 0, 0, 1), results('DETECTION', 0, 0, 0, 1)] }] },
    ];
    const out = scoreTechniques([{ techniqueId: 'T1234' }, { techniqueId: 'T5678' }], rows, sim);
    expect(out.map((t) => [t.prevention, t.detection])).toEqual([
      [100, 100],
      [0, 0],
    ]);
  });

  it('reports a technique without results as not tested, never as 0', () => {
    const [t] = scoreTechniques([{ techniqueId: 'T1531', stixId: 'attack-pattern--x' }], [], sim);
    expect(t.tested).toBe(false);
    expect(t.detection).toBeUndefined();
    expect(t.prevention).toBeUndefined();
    expect(t.stixId).toBe('attack-pattern--x');
    expect(t.why[0]).toMatch(/not tested: .* no result for T1531/);
  });

  it('gives integer scores (2 of 3 → 67, not 66.67)', () => {
    const rows: ResolvedPatternResults[] = [{ externalId: 'T1001', injects: [{ injectId: 'i', results: [results('PREVENTION', 2, 0, 0, 1)] }] }];
    expect(scoreTechniques([{ techniqueId: 'T1001' }], rows, sim)[0].prevention).toBe(67);
  });

  it('lets a parent take its sub-techniques results when it has none of its own, never the reverse', () => {
    const rows: ResolvedPatternResults[] = [{ externalId: 'T1059.001', injects: [{ injectId: 'i', results: [results('DETECTION', 1, 0, 0, 0)] }] }];
    expect(rowsForTechnique('T1059', rows)).toHaveLength(1);
    expect(rowsForTechnique('t1059.001', rows)).toHaveLength(1);
    expect(rowsForTechnique('T1059.003', rows)).toHaveLength(0);
    const exact: ResolvedPatternResults[] = [...rows, { externalId: 'T1059', injects: [{ injectId: 'j', results: [results('DETECTION', 0, 0, 0, 1)] }] }];
    expect(rowsForTechnique('T1059', exact).map((r) => r.externalId)).toEqual(['T1059']);
  });

  it('counts an inject linked to several matched patterns once', () => {
    const shared = { injectId: 'same', results: [results('DETECTION', 1, 0, 0, 0)] };
    const rows: ResolvedPatternResults[] = [
      { externalId: 'T1059.001', injects: [shared] },
      { externalId: 'T1059.003', injects: [shared, { injectId: 'other', results: [results('DETECTION', 0, 0, 0, 1)] }] },
    ];
    expect(scoreTechniques([{ techniqueId: 'T1059' }], rows, sim)[0].detection).toBe(50);
  });

  it('treats injects with only human-response expectations as not tested for prevention/detection', () => {
    const rows: ResolvedPatternResults[] = [{ externalId: 'T1566', injects: [{ injectId: 'i', results: [results('HUMAN_RESPONSE', 1, 0, 0, 0)] }] }];
    const [t] = scoreTechniques([{ techniqueId: 'T1566' }], rows, sim);
    expect(t.tested).toBe(false);
    expect(t.why.join('\n')).toMatch(/no prevention or detection expectation/);
  });
});
