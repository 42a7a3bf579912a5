import type { TechniqueAssessment } from '../../../src/domain/assessment/assessment-types';
import type { EvidenceSet } from '../../../src/domain/evidence/evidence-types';
import { createEmbeddedAssessor, type EngineOptions } from '../../../src/domain/scoring/embedded-engine';
import { evidence, NOW, request, rule } from './evidence-fixtures';

async function assessOne(ev: EvidenceSet, techniqueId: string, options?: EngineOptions): Promise<TechniqueAssessment> {
  const result = await createEmbeddedAssessor(ev, options).assess(request([techniqueId]), { now: NOW });
  return result.techniques[0];
}

const collected = (id: string, aliases: string[] = []) => ({ id, collected: true, aliases });
const missing = (id: string) => ({ id, collected: false, aliases: [] });

describe('Detection rubric (docs/scoring.md)', () => {
  it('scores a stable high rule with collected data, a detected emulation and enrichment exactly 94', async () => {
    const t = await assessOne(
      evidence({
        rules: [rule({ id: 'r1', techniques: ['T1059.001'], severity: 'high', dataSources: ['windows/process_creation'], hasEnrichment: true })],
        dataSources: [collected('windows/process_creation')],
        hasDataSourceInventory: true,
        validation: [{ techniqueId: 'T1059.001', date: '2026-01-10', outcome: 'detected' }],
      }),
      'T1059.001',
    );
    expect(t.detectionParts).toEqual({ dataSource: 25, ruleQuality: 19, validation: 25, enrichment: 25 });
    expect(t.detection).toBe(94);
    expect(t.rules).toEqual(['r1']);
    expect(t.why.join('\n')).toMatch(/"r1" \(sigma, stable, high\)/);
  });

  it('reaches 100 with a stable critical rule, two more rules, collected data, a detection and enrichment', async () => {
    const t = await assessOne(
      evidence({
        rules: [
          rule({ id: 'a', techniques: ['T1490'], severity: 'critical', dataSources: ['windows/process_creation'], hasEnrichment: true }),
          rule({ id: 'b', techniques: ['T1490'], maturity: 'test', severity: 'low', dataSources: ['windows/process_creation'] }),
          rule({ id: 'c', techniques: ['T1490'], maturity: 'experimental', dataSources: ['windows/process_creation'] }),
        ],
        dataSources: [collected('windows/process_creation')],
        hasDataSourceInventory: true,
        validation: [{ techniqueId: 'T1490', date: '2026-01-14', outcome: 'detected' }],
      }),
      'T1490',
    );
    expect(t.detectionParts).toEqual({ dataSource: 25, ruleQuality: 25, validation: 25, enrichment: 25 });
    expect(t.detection).toBe(100);
  });

  it('assumes collected data without an inventory and says so: experimental low rule alone = 31', async () => {
    const t = await assessOne(evidence({ rules: [rule({ id: 'x', techniques: ['T1082'], maturity: 'experimental', severity: 'low', dataSources: ['windows/process_creation'] })] }), 'T1082');
    expect(t.detectionParts).toEqual({ dataSource: 25, ruleQuality: 6, validation: 0, enrichment: 0 });
    expect(t.detection).toBe(31);
    expect(t.why.join('\n')).toMatch(/no data-source inventory configured/);
  });

  it('gives half the data-source part when one of two enabled rules is fed (12.5 rounds to 13) and names what is missing', async () => {
    const t = await assessOne(
      evidence({
        rules: [
          rule({ id: 'fed', techniques: ['T1003.001'], maturity: 'test', severity: 'medium', dataSources: ['windows/process_creation', 'windows', 'process_creation'] }),
          rule({ id: 'unfed', techniques: ['T1003.001'], maturity: 'test', dataSources: ['windows/process_access', 'windows', 'process_access'] }),
        ],
        dataSources: [collected('windows/process_creation'), missing('windows/process_access')],
        hasDataSourceInventory: true,
      }),
      'T1003.001',
    );
    expect(t.detectionParts?.dataSource).toBe(13);
    // Only the fed rule can fire: test + medium = 13, no depth bonus for a rule without its data.
    expect(t.detectionParts?.ruleQuality).toBe(13);
    expect(t.detection).toBe(26);
    expect(t.why.join('\n')).toMatch(/1 of 2 enabled rule\(s\) fed .*not collected: windows\/process_access/);
    expect(t.why.join('\n')).toMatch(/1 enabled rule needs data that is not collected \(windows\/process_access\): not counted for rule quality or enrichment/);
    expect(t.dataSources).toEqual(['windows/process_access', 'windows/process_creation']);
  });

  it('treats a rule\'s keys as alternatives: one collected key feeds it (Splunk Sysmon 1 or Security 4688)', async () => {
    const t = await assessOne(
      evidence({
        rules: [rule({ id: 's', format: 'splunk', techniques: ['T1053.005'], dataSources: ['sysmon eventid 1', 'windows event log security 4688'] })],
        dataSources: [missing('sysmon eventid 1'), collected('windows/security', ['windows event log security 4688'])],
        hasDataSourceInventory: true,
      }),
      'T1053.005',
    );
    expect(t.detectionParts?.dataSource).toBe(25);
  });

  it('lets the most specific inventory entry decide: "windows/process_access: false" beats "windows: true"', async () => {
    const ev = (keys: string[]) =>
      evidence({
        rules: [rule({ id: 'r', techniques: ['T1003.001'], dataSources: keys })],
        dataSources: [collected('windows'), missing('windows/process_access')],
        hasDataSourceInventory: true,
      });
    expect((await assessOne(ev(['windows/process_access', 'windows', 'process_access']), 'T1003.001')).detectionParts?.dataSource).toBe(0);
    // Only the broad key is listed: a parent key covers what is below it.
    expect((await assessOne(ev(['windows/registry_set', 'registry_set']), 'T1003.001')).detectionParts?.dataSource).toBe(25);
  });

  it('matches aliases and counts a rule whose sources the inventory does not know as not fed', async () => {
    const t = await assessOne(
      evidence({
        rules: [
          rule({ id: 'a', techniques: ['T1055'], dataSources: ['sysmon eventid 8'] }),
          rule({ id: 'b', techniques: ['T1055'], dataSources: ['auditd'] }),
          rule({ id: 'c', techniques: ['T1055'], dataSources: [] }),
        ],
        dataSources: [collected('windows/create_remote_thread', ['sysmon eventid 8'])],
        hasDataSourceInventory: true,
      }),
      'T1055',
    );
    // Rules that declare no source are left out of the share: 1 fed of 2 declaring → 12.5 → 13.
    expect(t.detectionParts?.dataSource).toBe(13);
    expect(t.why.join('\n')).toMatch(/not in the inventory: auditd/);
  });

  it('maps validation outcomes: prevented 25, detected 25, logged 12, none 0, and only the latest counts', async () => {
    const points: Record<string, number> = {};
    for (const outcome of ['prevented', 'detected', 'logged', 'none'] as const) {
      const t = await assessOne(
        evidence({
          validation: [
            { techniqueId: 'T1486', date: '2025-06-01', outcome: 'detected' },
            { techniqueId: 'T1486', date: '2026-01-14', outcome },
          ],
        }),
        'T1486',
      );
      points[outcome] = t.detectionParts?.validation as number;
    }
    expect(points).toEqual({ prevented: 25, detected: 25, logged: 12, none: 0 });
  });

  it('does not count disabled or deprecated rules: a real gap at 0, with the ignored rules named', async () => {
    const t = await assessOne(
      evidence({
        rules: [
          rule({ id: 'off', title: 'Disabled one', techniques: ['T1021.001'], enabled: false, hasEnrichment: true }),
          rule({ id: 'old', title: 'Old one', techniques: ['T1021.001'], maturity: 'deprecated' }),
        ],
      }),
      'T1021.001',
    );
    expect(t.tested).toBe(true);
    expect(t.detection).toBe(0);
    expect(t.rules).toEqual([]);
    expect(t.why.join('\n')).toMatch(/not counted: "Disabled one" \(disabled\), "Old one" \(deprecated\)/);
    expect(t.why.join('\n')).toMatch(/a real gap/);
  });

  it('derives severity from a risk score when the rule has none (73 → high, +4) and adds 3 for two rules', async () => {
    const t = await assessOne(
      evidence({
        rules: [
          rule({ id: 'e1', format: 'elastic', techniques: ['T1055'], riskScore: 73 }),
          rule({ id: 'e2', format: 'splunk', techniques: ['T1055'], maturity: 'test' }),
        ],
      }),
      'T1055',
    );
    expect(t.detectionParts?.ruleQuality).toBe(15 + 4 + 3);
  });

  it('uses imported DeTT&CT / Navigator estimates as floors: detection 80 → 20, visibility 75 → 19', async () => {
    const t = await assessOne(
      evidence({ imported: [{ techniqueId: 'T1078', source: 'dettect', detection: 80, visibility: 75, origin: 'endpoints.yaml' }] }),
      'T1078',
    );
    expect(t.detectionParts).toEqual({ dataSource: 19, ruleQuality: 20, validation: 0, enrichment: 0 });
    expect(t.detection).toBe(39);
    expect(t.why.join('\n')).toMatch(/DeTT&CT endpoints\.yaml/);
  });

  it('keeps the rule-derived part when it beats the imported estimate', async () => {
    const t = await assessOne(
      evidence({
        rules: [rule({ id: 'r', techniques: ['T1078'], severity: 'critical' })],
        imported: [{ techniqueId: 'T1078', source: 'navigator', detection: 40, origin: 'layer.json' }],
      }),
      'T1078',
    );
    expect(t.detectionParts?.ruleQuality).toBe(20);
  });
});

describe('Sub-technique roll-up', () => {
  const ev = evidence({
    rules: [rule({ id: 'sub', techniques: ['T1059.001'], severity: 'high' }), rule({ id: 'parent', techniques: ['T1547'], severity: 'medium' })],
    validation: [{ techniqueId: 'T1059.001', date: '2026-01-10', outcome: 'detected' }],
  });

  it('credits a parent with its sub-techniques\' rules and emulations when enabled (default)', async () => {
    const t = await assessOne(ev, 'T1059');
    expect(t.rules).toEqual(['sub']);
    expect(t.detectionParts).toEqual({ dataSource: 25, ruleQuality: 19, validation: 25, enrichment: 0 });
    expect(t.why.join('\n')).toMatch(/rolled up/);
  });

  it('does not credit the parent when roll-up is off', async () => {
    const t = await assessOne(ev, 'T1059', { rollupSubtechniques: false });
    expect(t.detection).toBe(0);
    expect(t.rules).toEqual([]);
  });

  it('never credits a sub-technique with a parent-level rule', async () => {
    const t = await assessOne(ev, 'T1547.001');
    expect(t.detection).toBe(0);
  });
});

describe('Tested or not tested', () => {
  const catalogue = {
    version: '18.1',
    techniques: { T1059: { id: 'T1059', name: 'Command and Scripting Interpreter', tactics: ['execution'], platforms: [], dataComponents: ['Process: Process Creation'], mitigations: [], deprecated: false, revoked: false } },
    mitigations: {},
  };

  it('scores a technique known to the catalogue but without evidence as detection 0 (a real gap)', async () => {
    const t = await assessOne(evidence({ rules: [rule({ id: 'r', techniques: ['T1003'] })], catalogue }), 'T1059');
    expect(t.tested).toBe(true);
    expect(t.detection).toBe(0);
    expect(t.name).toBe('Command and Scripting Interpreter');
  });

  it('leaves a technique unknown to the catalogue and without evidence not tested: no score at all', async () => {
    const result = await createEmbeddedAssessor(evidence({ rules: [rule({ id: 'r', techniques: ['T1003'] })], catalogue })).assess(request(['T9999']), { now: NOW });
    const t = result.techniques[0];
    expect(t.tested).toBe(false);
    expect(t.detection).toBeUndefined();
    expect(t.prevention).toBeUndefined();
    expect(t.why[0]).toMatch(/not tested: T9999 is unknown/);
    expect(result.overall).toEqual([]);
    expect(result.warnings.join('\n')).toMatch(/T9999/);
  });

  it('still judges an id unknown to the catalogue when a rule mentions it', async () => {
    const t = await assessOne(evidence({ rules: [rule({ id: 'r', techniques: ['T1685'] })], catalogue }), 'T1685');
    expect(t.tested).toBe(true);
    expect(t.detection).toBeGreaterThan(0);
  });

  it('measures nothing when no evidence at all was loaded', async () => {
    const t = await assessOne(evidence(), 'T1059');
    expect(t.tested).toBe(false);
    expect(t.why[0]).toMatch(/no rule, imported score, emulation result or control inventory/);
  });
});
