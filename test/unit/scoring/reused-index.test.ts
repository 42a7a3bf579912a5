import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { control, evidence, NOW, request, rule } from './evidence-fixtures';

/**
 * One assessor serves every message of the daemon, and keeps per technique what its rules are (their
 * split by state, records, sources). What one result gets must be its own: a caller changing it
 * changes neither the index nor the next result, and each platform is judged on its own rules.
 */
describe('An assessor reused across messages', () => {
  const rules = [
    rule({ id: 'r-win', techniques: ['T1059'], platforms: ['windows'], dataSources: ['windows/process_creation'] }),
    rule({ id: 'r-lin', techniques: ['T1059'], platforms: ['linux'], dataSources: ['linux/auditd'] }),
    rule({ id: 'r-sub', techniques: ['T1059.001'], maturity: 'test' }),
    rule({ id: 'r-off', techniques: ['T1059'], enabled: false }),
  ];
  const dataSources = [
    { id: 'windows/process_creation', collected: true, aliases: [] },
    { id: 'linux/auditd', collected: false, aliases: [] },
  ];
  const make = () => createEmbeddedAssessor(evidence({ rules, dataSources, hasDataSourceInventory: true, controls: [control({ id: 'c1', techniques: ['T1059'] })] }));

  it('gives the same result twice, and results that share no array a caller could change', async () => {
    const assessor = make();
    const first = await assessor.assess(request(['T1059', 'T1003']), { now: NOW });
    const snapshot = JSON.stringify(first);
    const t = first.techniques[0];
    t.rules.push('injected');
    t.evidence?.rules.pop();
    t.dataSources?.push('injected');
    t.why.push('injected');
    const second = await assessor.assess(request(['T1059', 'T1003']), { now: NOW });
    expect(JSON.stringify(second)).toBe(snapshot);
    expect(JSON.stringify(await make().assess(request(['T1059', 'T1003']), { now: NOW }))).toBe(snapshot);
  });

  it('judges each platform on the rules that run there, whichever platform was asked first', async () => {
    const assessor = make();
    const windowsFirst = await assessor.assess(request(['T1059'], { platformsAffinity: ['windows'] }), { now: NOW });
    const linux = await assessor.assess(request(['T1059'], { platformsAffinity: ['linux'] }), { now: NOW });
    const windows = await assessor.assess(request(['T1059'], { platformsAffinity: ['windows'] }), { now: NOW });
    expect(windows).toEqual(windowsFirst);
    expect(windows.techniques[0].rules).toEqual(['r-win', 'r-sub']);
    expect(linux.techniques[0].rules).toEqual(['r-lin', 'r-sub']);
    expect(linux.techniques[0].detection).toBeLessThan(windows.techniques[0].detection as number);
    // Without roll-up the sub-technique's rule is not credited: another split of the same technique.
    const exact = createEmbeddedAssessor(evidence({ rules, dataSources, hasDataSourceInventory: true }), { rollupSubtechniques: false });
    expect((await exact.assess(request(['T1059'], { platformsAffinity: ['windows'] }), { now: NOW })).techniques[0].rules).toEqual(['r-win']);
  });
});
