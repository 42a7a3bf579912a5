import type { AttackCatalogue } from '../../../src/domain/evidence/evidence-types';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { control, evidence, NOW, request, rule } from './evidence-fixtures';

const catalogue: AttackCatalogue = {
  version: '18.1',
  techniques: {
    T1486: { id: 'T1486', name: 'Data Encrypted for Impact', tactics: ['impact'], platforms: [], dataComponents: [], mitigations: ['M1053'], deprecated: false, revoked: false },
  },
  mitigations: { M1053: { id: 'M1053', name: 'Data Backup' } },
};

async function prevention(techniqueId: string, ev = evidence()): Promise<number | undefined> {
  const result = await createEmbeddedAssessor(ev).assess(request([techniqueId]), { now: NOW });
  return result.techniques[0].prevention;
}

describe('Prevention from the control inventory', () => {
  it('scores validated block 100, block 75, audit 25, disabled 0', async () => {
    const modes = [
      control({ id: 'v', mode: 'block', techniques: ['T1001'], validated: '2026-01-15' }),
      control({ id: 'b', mode: 'block', techniques: ['T1002'] }),
      control({ id: 'a', mode: 'audit', techniques: ['T1003'] }),
      control({ id: 'd', mode: 'disabled', techniques: ['T1004'] }),
    ];
    const ev = evidence({ controls: modes });
    expect([await prevention('T1001', ev), await prevention('T1002', ev), await prevention('T1003', ev), await prevention('T1004', ev)]).toEqual([100, 75, 25, 0]);
  });

  it('keeps the best control when several cover the technique, and lists them all', async () => {
    const ev = evidence({ controls: [control({ id: 'audit', mode: 'audit', techniques: ['T1059'] }), control({ id: 'block', mode: 'block', techniques: ['T1059'] })] });
    const t = (await createEmbeddedAssessor(ev).assess(request(['T1059']), { now: NOW })).techniques[0];
    expect(t.prevention).toBe(75);
    expect(t.controls).toEqual(['block', 'audit']);
  });

  it('scores 0 for a technique no control covers when an inventory exists', async () => {
    expect(await prevention('T1082', evidence({ controls: [control({ id: 'x', techniques: ['T1486'] })] }))).toBe(0);
  });

  it('omits prevention (never 0) when there is neither a control inventory nor an emulation', async () => {
    expect(await prevention('T1082', evidence({ rules: [rule({ id: 'r', techniques: ['T1082'] })] }))).toBeUndefined();
  });

  it('maps controls through ATT&CK mitigations when the catalogue is loaded', async () => {
    const ev = evidence({ catalogue, controls: [control({ id: 'backup', mode: 'block', mitigations: ['M1053'] })] });
    const t = (await createEmbeddedAssessor(ev).assess(request(['T1486']), { now: NOW })).techniques[0];
    expect(t.prevention).toBe(75);
    expect(t.why.join('\n')).toMatch(/via mitigation M1053/);
  });

  it('notes once that mitigation mappings are ignored without a catalogue', () => {
    const assessor = createEmbeddedAssessor(evidence({ controls: [control({ id: 'backup', mitigations: ['M1053'] })] }));
    expect(assessor.notes).toEqual([expect.stringMatching(/control backup lists mitigations \(M1053\) but no ATT&CK catalogue/)]);
  });

  it('applies a parent-technique control to its sub-techniques but not the reverse', async () => {
    const ev = evidence({ controls: [control({ id: 'parent', techniques: ['T1059'] }), control({ id: 'sub', techniques: ['T1547.001'] })] });
    expect(await prevention('T1059.003', ev)).toBe(75);
    expect(await prevention('T1547', ev)).toBe(0);
  });

  it('scores 100 when the latest emulation was prevented, even without a control', async () => {
    const ev = evidence({ validation: [{ techniqueId: 'T1003.001', date: '2026-01-12', outcome: 'prevented' }] });
    expect(await prevention('T1003.001', ev)).toBe(100);
  });

  it('scores 0 from an emulation that was not prevented when nothing else covers it', async () => {
    const ev = evidence({ validation: [{ techniqueId: 'T1021.001', date: '2026-01-11', outcome: 'none' }] });
    expect(await prevention('T1021.001', ev)).toBe(0);
  });
});

describe('Container score', () => {
  const ev = evidence({
    rules: [rule({ id: 'a', techniques: ['T1001'], severity: 'high' }), rule({ id: 'b', techniques: ['T1002'], maturity: 'experimental' })],
    catalogue: { version: '18.1', techniques: {}, mitigations: {} },
  });
  // T1001: 25 + 19 = 44; T1002: 25 + 5 = 30; T9999 unknown, no evidence: not tested.
  const req = request(['T1001', 'T1002', 'T9999']);

  it('is the rounded mean over tested techniques by default, untested ones left out', async () => {
    const result = await createEmbeddedAssessor(ev).assess(req, { now: NOW });
    expect(result.techniques.map((t) => t.detection)).toEqual([44, 30, undefined]);
    expect(result.overall).toEqual([{ name: 'DETECTION', score: 37 }]);
  });

  it('honours the min and max aggregates', async () => {
    expect((await createEmbeddedAssessor(ev, { aggregate: 'min' }).assess(req, { now: NOW })).overall).toEqual([{ name: 'DETECTION', score: 30 }]);
    expect((await createEmbeddedAssessor(ev, { aggregate: 'max' }).assess(req, { now: NOW })).overall).toEqual([{ name: 'DETECTION', score: 44 }]);
  });

  it('reports unmatched attack patterns as warnings and stamps the run time and external uri', async () => {
    const result = await createEmbeddedAssessor(ev, { externalUri: 'https://assessor.example.org/c/1' }).assess(
      request(['T1001'], { unmatched: [{ stixId: 'attack-pattern--x', name: 'Custom', reason: 'no ATT&CK id' }] }),
      { now: NOW },
    );
    expect(result.runAt).toBe('2026-02-12T09:00:00.000Z');
    expect(result.backend).toBe('embedded');
    expect(result.externalUri).toBe('https://assessor.example.org/c/1');
    expect(result.techniques[0].externalUri).toBe('https://assessor.example.org/c/1');
    expect(result.warnings).toContain('attack pattern attack-pattern--x (Custom) not assessed: no ATT&CK id');
  });

  it('gives the same result for the same request on a reused assessor', async () => {
    const assessor = createEmbeddedAssessor(ev);
    const first = await assessor.assess(req, { now: NOW });
    const second = await assessor.assess(req, { now: NOW });
    expect(second).toEqual(first);
  });
});
