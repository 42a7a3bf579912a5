import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAttackCatalogue, loadRulesFromDirs, readAttackBundle } from '../../../src/adapters/evidence';
import { loadElasticRule } from '../../../src/adapters/evidence/elastic-loader';
import type { AssessmentResult } from '../../../src/domain/assessment/assessment-types';
import { resolveCoverageRequest } from '../../../src/domain/coverage/technique-resolution';
import type { CoverageRequest } from '../../../src/domain/coverage/coverage-types';
import type { AttackCatalogue, DetectionRule, EvidenceSet } from '../../../src/domain/evidence/evidence-types';
import { prevalenceFromUses, usesFromBundle, type PrevalenceTable } from '../../../src/domain/gaps/prevalence';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { buildResultBundle } from '../../../src/domain/stix/result-bundle';
import type { StixObject } from '../../../src/domain/stix/stix-types';
import { describeWithShared, sharedPath } from '../../support/env';
import { runAssess } from '../../../src/app/assess/assess';
import { assessJson, formatAssessReport } from '../../../src/app/assess/assess-report';
import { evidence, NOW, request } from './evidence-fixtures';

/**
 * Issue rules on real inputs: the shared Sigma / Elastic / Splunk / Sentinel / Wazuh samples, ATT&CK
 * 18.1 and the APT29 intrusion set (G0016) built from it. Loaded once (about 4 s).
 */

const SAMPLES = ['sigma', 'elastic', 'splunk', 'sentinel', 'wazuh'].map((d) => sharedPath('samples', d));

describeWithShared('Scoring on ATT&CK 18.1 and the shared rule samples', () => {
  let objects: StixObject[];
  let catalogue: AttackCatalogue;
  let rules: DetectionRule[];
  let apt29: CoverageRequest;
  let ev: EvidenceSet;
  const assess = (req: CoverageRequest, platforms?: string[], extra: Partial<EvidenceSet> = {}, prevalence?: PrevalenceTable): Promise<AssessmentResult> =>
    createEmbeddedAssessor({ ...ev, ...extra }, prevalence ? { prevalence: () => prevalence } : {}).assess({ ...req, ...(platforms ? { platformsAffinity: platforms } : {}) }, { now: NOW });
  const byId = (r: AssessmentResult, id: string) => r.techniques.find((t) => t.techniqueId === id);

  beforeAll(async () => {
    objects = ((await readAttackBundle(sharedPath('attack/enterprise-attack-18.1.json.gz'))) as { objects: StixObject[] }).objects;
    catalogue = importAttackCatalogue({ type: 'bundle', objects }, { version: '18.1' });
    rules = (await loadRulesFromDirs(SAMPLES)).rules;
    const group = objects.find((o) => o.type === 'intrusion-set' && (o.external_references as Array<{ external_id?: string }>).some((r) => r.external_id === 'G0016')) as StixObject;
    apt29 = resolveCoverageRequest({ objects, coveredId: group.id });
    ev = evidence({ rules, catalogue });
  });

  it('builds APT29 (G0016) from the bundle: 66 techniques', () => {
    expect(apt29.coveredName).toBe('APT29');
    expect(apt29.techniques).toHaveLength(66);
  });

  describe('platforms', () => {
    it('reads what each rule runs on from the rule itself', () => {
      const of = (path: string) => rules.find((r) => r.path.endsWith(path))?.platforms;
      expect(of('proc_creation_win_schtasks_creation.yml') ?? of('.yml')).toBeDefined();
      const sigmaLinux = rules.filter((r) => r.format === 'sigma' && r.path.startsWith('rules/linux/'));
      expect(sigmaLinux.length).toBeGreaterThan(5);
      expect(sigmaLinux.every((r) => r.platforms?.join() === 'linux')).toBe(true);
      const elasticByTag = rules.filter((r) => r.format === 'elastic' && r.path.startsWith('rules/macos/'));
      expect(elasticByTag.every((r) => r.platforms?.includes('macos'))).toBe(true);
      expect(rules.filter((r) => r.format === 'splunk' && r.dataSources.includes('sysmon for linux eventid 1')).every((r) => r.platforms?.join() === 'linux')).toBe(true);
      expect(rules.filter((r) => r.format === 'sentinel' && r.path.includes('Solutions/Syslog/')).every((r) => r.platforms?.join() === 'linux')).toBe(true);
      expect(rules.filter((r) => r.format === 'wazuh' && r.path.endsWith('0095-sshd_rules.xml')).every((r) => r.platforms?.join() === 'linux')).toBe(true);
      // A proxy rule runs wherever the traffic comes from.
      expect(rules.filter((r) => r.format === 'sigma' && r.path.startsWith('rules/web/')).every((r) => !r.platforms)).toBe(true);
    });

    it('scores APT29 differently for windows and linux, techniques of neither platform not applicable (no score, not 0)', async () => {
      const windows = await assess(apt29, ['windows']);
      const linux = await assess(apt29, ['linux']);
      const na = (r: AssessmentResult) => r.techniques.filter((t) => t.notApplicable).map((t) => t.techniqueId);
      // PRE and cloud-only techniques apply to neither; Windows-only ones apply to windows only.
      expect(na(windows)).toEqual(expect.arrayContaining(['T1583.006', 'T1587.001', 'T1078.004']));
      expect(na(linux)).toEqual(expect.arrayContaining(['T1547.001', 'T1059.001', 'T1003.002', 'T1583.006']));
      expect(na(windows)).not.toContain('T1547.001');
      for (const t of windows.techniques.filter((x) => x.notApplicable)) expect([t.tested, t.detection, t.prevention]).toEqual([false, undefined, undefined]);
      expect(byId(linux, 'T1547.001')?.why[0]).toMatch(/^not applicable: T1547.001 runs on windows \(ATT&CK\), none of this coverage's platforms \(linux\)/);
      const score = (r: AssessmentResult) => r.overall.find((o) => o.name === 'DETECTION')?.score;
      expect(score(windows)).toBeGreaterThan(score(linux) as number);
      // A Windows rule does not count on linux: T1105 has both kinds.
      const t1105 = byId(linux, 'T1105');
      const counted = rules.filter((r) => t1105?.rules.includes(r.id));
      expect(counted.length).toBeGreaterThan(0);
      expect(counted.every((r) => !r.platforms || r.platforms.includes('linux'))).toBe(true);
      expect(t1105?.why.join('\n')).toMatch(/not counted on linux: \d+ enabled rules? for .*windows/);
    });

    it('shows the per-platform picture and bounds a technique by its weakest platform', async () => {
      const both = await assess(apt29, ['windows', 'linux']);
      const windows = await assess(apt29, ['windows']);
      const linux = await assess(apt29, ['linux']);
      const t = byId(both, 'T1105');
      expect(t?.platforms?.map((p) => p.platform)).toEqual(['windows', 'linux']);
      expect(t?.detection).toBe(Math.min(byId(windows, 'T1105')?.detection as number, byId(linux, 'T1105')?.detection as number));
      expect(t?.why[1]).toMatch(/^per platform: windows detection \d+; linux detection \d+: the weakest platform bounds each score$/);
      // Windows-only T1547.001 is scored on windows alone, and says so.
      expect(byId(both, 'T1547.001')?.detection).toBe(byId(windows, 'T1547.001')?.detection);
      expect(byId(both, 'T1547.001')?.why.join('\n')).toMatch(/platforms: assessed on windows; linux not applicable/);
    });

    it('never emits an empty coverage list: not-applicable techniques get covered false and no coverage property', async () => {
      const linux = await assess(apt29, ['linux']);
      const bundle = buildResultBundle({ ...apt29, platformsAffinity: ['linux'] }, linux, { now: NOW, validity: { lastResult: NOW.toISOString(), validFrom: NOW.toISOString() } });
      const target = apt29.techniques.find((t) => t.techniqueId === 'T1547.001')?.stixId;
      const rel = bundle.objects.find((o) => o.type === 'relationship' && o.target_ref === target);
      expect(rel).toMatchObject({ covered: false });
      expect(rel).not.toHaveProperty('coverage');
      for (const o of bundle.objects) if ('coverage' in o) expect((o.coverage as unknown[]).length).toBeGreaterThan(0);
    });

    it('says nothing was tested (not "each scores at least 50") when no technique applies to the platforms', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'apt29-'));
      try {
        const group = objects.find((o) => o.id === apt29.coveredRef) as StixObject;
        const uses = objects.filter((o) => o.type === 'relationship' && o.relationship_type === 'uses' && o.source_ref === group.id);
        const patterns = objects.filter((o) => uses.some((u) => u.target_ref === o.id));
        const file = join(dir, 'apt29.json');
        writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [group, ...uses, ...patterns] }));
        const run = await runAssess({ bundleFile: file, rulesDirs: SAMPLES, platforms: ['android'], now: NOW }, { loadEvidence: async () => ev });
        const text = formatAssessReport(run, { width: 0 });
        expect(text).toMatch(/^Platforms: {10}android \(66 technique\(s\) not applicable/m);
        expect(text).toMatch(/^ATT&CK: {13}18\.1$/m);
        expect(text).toContain('Top gaps: none ranked: no technique was tested');
        expect(text).not.toMatch(/at least 50/);
        expect(assessJson(run)).toMatchObject({ attack_version: '18.1', platforms: ['android'], overall: [] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('does not count a control on the platforms it does not protect', async () => {
      const controls = [{ id: 'asr', name: 'ASR rules', mode: 'block' as const, techniques: ['T1105'], mitigations: [], platforms: ['windows'] }];
      const r = await assess(request(['T1105']), ['windows', 'linux'], { controls });
      expect(r.techniques[0].platforms).toEqual([expect.objectContaining({ platform: 'windows', prevention: 75 }), expect.objectContaining({ platform: 'linux', prevention: 0 })]);
      expect(r.techniques[0].prevention).toBe(0);
      expect(r.gaps[0]).toMatchObject({ techniqueId: 'T1105', platforms: ['linux'] });
    });
  });

  describe('ATT&CK versions', () => {
    it('credits SigmaHQ rules tagged with v19 ids (T1685, T1685.001) to the v18 ids a container uses, and notes the mapping', async () => {
      const r = await assess(request(['T1562.001', 'T1562.002']));
      const v19 = rules.filter((x) => x.techniques.includes('T1685'));
      expect(v19.length).toBeGreaterThan(3);
      expect(byId(r, 'T1562.001')?.rules).toEqual(expect.arrayContaining(v19.filter((x) => x.maturity !== 'deprecated').map((x) => x.id)));
      expect(byId(r, 'T1562.002')?.rules).toEqual(expect.arrayContaining(rules.filter((x) => x.techniques.includes('T1685.001')).map((x) => x.id)));
      const notes = createEmbeddedAssessor(ev).notes.join('\n');
      expect(notes).toMatch(/credited under the id it does: .*T1685 → T1562, T1562\.001, T1562\.006 \(9 rules\)/);
      expect(notes).toMatch(/T1574\.002 → T1574\.001 \(3 rules\)/);
      // A new v19 sub-technique with no v18 counterpart: warned, counted only for itself.
      expect(notes).toMatch(/unknown to ATT&CK 18\.1 and to the v18↔v19 table count only for those exact ids: T1686\.003 \(1 rule; a variant of what ATT&CK 18\.1 calls T1562\.004\)/);
      expect(r.attackVersion).toBe('18.1');
    });

    it('assesses a container that already uses a v19 id against the 18.1 catalogue, crediting v18-tagged rules', async () => {
      const r = await assess(request(['T1685']));
      const t = byId(r, 'T1685');
      expect(t?.tested).toBe(true);
      expect(t?.name).toBe('Disable or Modify Tools');
      expect(t?.rules).toEqual(expect.arrayContaining(rules.filter((x) => x.techniques.includes('T1562.001') && x.maturity !== 'deprecated' && !x.buildingBlock).map((x) => x.id)));
      expect(r.warnings.join('\n')).toMatch(/T1685 is not in ATT&CK 18\.1: judged as T1562/);
    });
  });

  describe('data that is not collected detects nothing', () => {
    it('scores a technique whose enabled rules all read uncollected data at its validation part only', async () => {
      const dataSources = [{ id: 'windows', collected: false, aliases: [] }];
      const r = await assess(request(['T1547.001']), ['windows'], { dataSources, hasDataSourceInventory: true, rules: rules.filter((x) => x.format === 'sigma') });
      const t = r.techniques[0];
      expect(t.detectionParts).toEqual({ dataSource: 0, ruleQuality: 0, validation: 0, enrichment: 0 });
      expect(t.why.join('\n')).toMatch(/all \d+ enabled rules need data that is not collected \(windows\), and a rule without its data cannot fire/);
      expect(r.gaps[0]).toMatchObject({ dimension: 'detection', action: expect.stringMatching(/^collect windows \(rule ".+" depends on it\)$/) });
    });
  });

  describe('deprecated rules and building blocks', () => {
    it('marks every rule under a deprecated/ folder deprecated, whichever folder --rules names', async () => {
      const fromDeprecated = await loadRulesFromDirs([sharedPath('samples/sigma/deprecated'), sharedPath('samples/elastic/rules/_deprecated')]);
      expect(fromDeprecated.rules.length).toBeGreaterThan(0);
      expect(fromDeprecated.rules.every((r) => r.maturity === 'deprecated')).toBe(true);
      expect(fromDeprecated.rules.some((r) => !/deprecated/i.test(r.path))).toBe(true);
    });

    it('lets an Elastic building block support a detection without counting as one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bb-'));
      try {
        const toml = (id: string, block: boolean) =>
          `[metadata]\nmaturity = "production"\n[rule]\nname = "${id}"\nrule_id = "${id}"\nrisk_score = 21\nseverity = "low"\n${block ? 'building_block_type = "default"\n' : ''}tags = ["OS: Windows"]\nindex = ["logs-endpoint.events.process-*"]\n[[rule.threat]]\nframework = "MITRE ATT&CK"\n[[rule.threat.technique]]\nid = "T1047"\n`;
        mkdirSync(join(dir, 'rules'));
        writeFileSync(join(dir, 'rules', 'bb.toml'), toml('bb', true));
        const bb = loadElasticRule(toml('bb', true), 'bb.toml');
        expect(bb.ok && bb.value).toMatchObject({ buildingBlock: true, platforms: ['windows'] });
        const onlyBlock = await createEmbeddedAssessor(evidence({ rules: [(bb as { value: DetectionRule }).value] })).assess(request(['T1047']), { now: NOW });
        expect(onlyBlock.techniques[0]).toMatchObject({ detection: 0, rules: [] });
        expect(onlyBlock.techniques[0].why.join('\n')).toMatch(/supporting: "bb" \(building block: feeds other rules, raises no alert; not counted\)/);
        expect(onlyBlock.techniques[0].evidence?.rules[0].state).toBe('building-block');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('priorities from intelligence', () => {
    it('ranks by how many ATT&CK groups and campaigns use each technique, and says so on each gap', async () => {
      const table = prevalenceFromUses(usesFromBundle(objects), { origin: 'bundle', label: 'enterprise-attack-18.1.json.gz', now: NOW, windowDays: 365 });
      // T1105 and T1059 are among the most used techniques in ATT&CK 18.1.
      const top = Object.entries(table.values).filter(([, v]) => v === 10).map(([id]) => id);
      expect(top.length).toBeGreaterThan(0);
      expect(table.users.T1105.intrusionSets).toBeGreaterThan(40);
      expect(table.values.T1105).toBeGreaterThanOrEqual(8);
      const r = await assess(apt29, ['windows'], {}, table);
      expect(r.gaps.length).toBeGreaterThan(5);
      for (const g of r.gaps) expect(g.prevalenceSource).toMatch(/^enterprise-attack-18\.1\.json\.gz: used by /);
      expect(r.gaps.every((g) => g.dimension === 'detection' && typeof g.action === 'string')).toBe(true);
      // A parent and its sub-technique are listed once.
      const ids = r.gaps.map((g) => g.techniqueId);
      expect(ids.filter((id) => ids.some((o) => o.startsWith(`${id}.`)))).toEqual([]);
    });
  });
});
