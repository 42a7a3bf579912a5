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

  it('gives the same result twice, and technique results no caller can change (they are shared)', async () => {
    const assessor = make();
    const first = await assessor.assess(request(['T1059', 'T1003']), { now: NOW });
    const snapshot = JSON.stringify(first);
    const t = first.techniques[0];
    expect(() => t.rules.push('injected')).toThrow(TypeError);
    expect(() => t.evidence?.rules.pop()).toThrow(TypeError);
    expect(() => t.dataSources?.push('injected')).toThrow(TypeError);
    expect(() => t.why.push('injected')).toThrow(TypeError);
    expect(() => Object.assign(t, { detection: 0 })).toThrow(TypeError);
    const second = await assessor.assess(request(['T1059', 'T1003']), { now: NOW });
    expect(JSON.stringify(second)).toBe(snapshot);
    // Reused, not recomputed: the same technique of another coverage is the same object.
    expect(second.techniques[0]).toBe(t);
    expect(JSON.stringify(await make().assess(request(['T1059', 'T1003']), { now: NOW }))).toBe(snapshot);
    // Without the memo every result is its own, and a caller may change it.
    const unshared = createEmbeddedAssessor(evidence({ rules, dataSources, hasDataSourceInventory: true, controls: [control({ id: 'c1', techniques: ['T1059'] })] }), { techniqueMemo: 0 });
    const own = await unshared.assess(request(['T1059', 'T1003']), { now: NOW });
    expect(JSON.stringify(own)).toBe(snapshot);
    own.techniques[0].why.push('mine');
    expect(JSON.stringify(await unshared.assess(request(['T1059', 'T1003']), { now: NOW }))).toBe(snapshot);
  });

  it('reuses a technique only for the same technique reference and platforms', async () => {
    const assessor = make();
    const plain = (await assessor.assess(request(['T1059']), { now: NOW })).techniques[0];
    const windows = (await assessor.assess(request(['T1059'], { platformsAffinity: ['windows'] }), { now: NOW })).techniques[0];
    const named = (await assessor.assess({ ...request(['T1059']), techniques: [{ techniqueId: 'T1059', name: 'Another name' }] }, { now: NOW })).techniques[0];
    expect(windows).not.toBe(plain);
    expect(named).not.toBe(plain);
    expect(named.name).toBe('Another name');
    expect((await assessor.assess(request(['T1059']), { now: NOW })).techniques[0]).toBe(plain);
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
