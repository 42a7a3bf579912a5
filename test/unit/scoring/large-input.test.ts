import type { DetectionRule } from '../../../src/domain/evidence/evidence-types';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { evidence, NOW, request, rule } from './evidence-fixtures';

/**
 * 5,000 generated rules and a 600-technique container: values are checked, not time (the timed
 * figure lives in the benchmark). Rule n is tagged with technique n % 550 (T1000…T1549), so
 * T1550…T1599 have none; technique t keeps t % 4 of its rules enabled; maturity cycles; sources
 * of odd techniques are collected (the others' rules cannot fire).
 */
const TECHNIQUES = 600;
const WITH_RULES = 550;
const techniqueId = (i: number): string => `T${1000 + i}`;
const MATURITIES = ['stable', 'test', 'experimental'] as const;

function generatedRules(): DetectionRule[] {
  return Array.from({ length: 5000 }, (_, n) => {
    const t = n % WITH_RULES;
    const rank = Math.floor(n / WITH_RULES);
    return rule({ id: `rule-${n}`, techniques: [techniqueId(t)], maturity: MATURITIES[(t + rank) % 3], enabled: rank < t % 4, dataSources: [`source-${t}`] });
  });
}

describe('Large input', () => {
  const rules = generatedRules();
  const dataSources = Array.from({ length: TECHNIQUES }, (_, i) => ({ id: `source-${i}`, collected: i % 2 === 1, aliases: [] }));
  const assessor = createEmbeddedAssessor(evidence({ rules, dataSources, hasDataSourceInventory: true }));
  const req = request(Array.from({ length: TECHNIQUES }, (_, i) => techniqueId(i)));

  it('assesses 600 techniques against the generated rules with the expected per-technique values', async () => {
    expect(rules.length).toBe(5000);
    const result = await assessor.assess(req, { now: NOW });
    expect(result.techniques).toHaveLength(TECHNIQUES);
    for (let i = 0; i < TECHNIQUES; i++) {
      const own = rules.filter((r) => r.techniques[0] === techniqueId(i));
      const usable = own.filter((r) => r.enabled);
      const t = result.techniques[i];
      expect([...t.rules].sort()).toEqual(usable.map((r) => r.id).sort());
      const best = Math.max(0, ...usable.map((r) => ({ stable: 15, test: 10, experimental: 5 })[r.maturity as 'stable']));
      const depth = usable.length >= 3 ? 5 : usable.length === 2 ? 3 : 0;
      // Even techniques' sources are not collected: their rules cannot fire and score nothing.
      const expected = usable.length === 0 || i % 2 === 0 ? 0 : 25 + best + depth;
      expect(t.detection).toBe(expected);
    }
  });

  it('computes the container score as the mean of the 600 technique scores', async () => {
    const result = await assessor.assess(req, { now: NOW });
    const values = result.techniques.map((t) => t.detection as number);
    expect(result.overall).toEqual([{ name: 'DETECTION', score: Math.round(values.reduce((a, b) => a + b, 0) / values.length) }]);
    expect(result.gaps.length).toBe(values.filter((v) => v < 50).length);
  });
});
