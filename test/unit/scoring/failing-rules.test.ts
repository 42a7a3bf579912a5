import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { evidence, NOW, request, rule } from './evidence-fixtures';

/** A rule the SIEM reports as failing on its last execution does not count (live rule sources). */
describe('failing rules', () => {
  const failing = rule({ id: 'k1', title: 'Kibana brute force', techniques: ['T1110'], format: 'elastic', failing: { since: '2026-02-10T08:00:00.000Z', message: 'index not found' } });

  it('does not count a failing rule and says it is enabled but failing since when', async () => {
    const result = await createEmbeddedAssessor(evidence({ rules: [failing] })).assess(request(['T1110']), { now: NOW });
    const t = result.techniques[0];
    expect(t.detection).toBe(0);
    expect(t.rules).toEqual([]);
    expect(t.why).toContain('rule "Kibana brute force" is enabled but failing since 2026-02-10T08:00:00.000Z (index not found): not counted');
    expect(t.why.join('\n')).toMatch(/not counted: "Kibana brute force" \(failing\)/);
    expect(t.evidence?.rules).toEqual([expect.objectContaining({ id: 'k1', state: 'failing' })]);
  });

  it('still counts the healthy rules beside it', async () => {
    const healthy = rule({ id: 's1', techniques: ['T1110'], severity: 'high' });
    const t = (await createEmbeddedAssessor(evidence({ rules: [failing, healthy] })).assess(request(['T1110']), { now: NOW })).techniques[0];
    expect(t.rules).toEqual(['s1']);
    expect(t.detectionParts?.ruleQuality).toBe(19);
  });

  it('reports a disabled failing rule as disabled (not running at all)', async () => {
    const off = { ...failing, enabled: false };
    const t = (await createEmbeddedAssessor(evidence({ rules: [off] })).assess(request(['T1110']), { now: NOW })).techniques[0];
    expect(t.why.join('\n')).not.toMatch(/failing since/);
    expect(t.evidence?.rules[0].state).toBe('disabled');
  });
});
