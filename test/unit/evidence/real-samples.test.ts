import { readFileSync } from 'node:fs';
import { loadDettectFile } from '../../../src/adapters/evidence/import-loaders';
import { loadRulesFromDirs, type RulesLoadResult } from '../../../src/adapters/evidence/rule-files';
import type { DetectionRule } from '../../../src/domain/evidence/evidence-types';
import { describeWithShared, sharedPath } from '../../support/env';

/** The real third-party samples of ../shared/samples (README there): counts and known files. */

const byPath = (result: RulesLoadResult, suffix: string): DetectionRule | undefined => result.rules.find((r) => r.path.endsWith(suffix));
const issueFor = (result: RulesLoadResult, suffix: string): string | undefined => result.issues.find((i) => i.path.endsWith(suffix))?.reason;

describeWithShared('real SigmaHQ samples', () => {
  let result: RulesLoadResult;
  beforeAll(async () => {
    result = await loadRulesFromDirs([sharedPath('samples/sigma')]);
  });

  it('loads 173 of 199 rules; the 26 others carry only tactic / group tags and are reported', () => {
    expect(result.files).toBe(199);
    expect(result.rules).toHaveLength(173);
    expect(result.issues).toHaveLength(26);
    expect(new Set(result.issues.map((i) => i.reason))).toEqual(new Set(['sigma: tags contain no ATT&CK technique']));
    expect(issueFor(result, 'identity/cisco_duo/cisco_duo_mfa_bypass_via_bypass_code.yml')).toBe('sigma: tags contain no ATT&CK technique');
  });

  it('ignores cve.*, group and software tags beside technique tags', () => {
    expect(byPath(result, 'application/jvm/java_ognl_injection_exploitation_attempt.yml')?.techniques).toEqual(['T1190']);
    expect(byPath(result, 'linux/builtin/lnx_apt_equationgroup_lnx.yml')?.techniques).toEqual(['T1059.004']);
  });

  it('maps a rule of deprecated/ to deprecated maturity and builds logsource keys', () => {
    const rule = byPath(result, 'deprecated/linux/lnx_auditd_alter_bash_profile.yml');
    expect(rule).toMatchObject({ maturity: 'deprecated', techniques: ['T1546.004'], severity: 'medium', dataSources: ['linux/auditd', 'linux', 'auditd'] });
  });

  it('gives every loaded rule upper-case technique ids and lower-case data-source keys', () => {
    for (const rule of result.rules) {
      expect(rule.techniques.every((t) => /^T\d{4}(\.\d{3})?$/.test(t))).toBe(true);
      expect(rule.dataSources.every((d) => d === d.toLowerCase())).toBe(true);
    }
  });
});

describeWithShared('real elastic/detection-rules samples', () => {
  let result: RulesLoadResult;
  beforeAll(async () => {
    result = await loadRulesFromDirs([sharedPath('samples/elastic')]);
  });

  it('loads 117 of 125 rules; the 8 without an ATT&CK technique are reported', () => {
    expect(result.files).toBe(125);
    expect(result.rules).toHaveLength(117);
    expect(result.issues).toHaveLength(8);
    expect(new Set(result.issues.map((i) => i.reason))).toEqual(new Set(['elastic: no ATT&CK technique in [[rule.threat]]']));
  });

  it('lists both the technique and its sub-technique', () => {
    expect(byPath(result, 'windows/defense_evasion_timestomp_sysmon.toml')).toMatchObject({
      techniques: ['T1070', 'T1070.006'],
      maturity: 'stable',
      severity: 'medium',
      riskScore: 47,
      dataSources: ['winlogbeat-*', 'logs-windows.sysmon_operational-*', 'windows', 'sysmon'],
      hasEnrichment: true,
    });
  });

  it('takes nothing from tactic-only threat entries', () => {
    expect(issueFor(result, '_deprecated/command_and_control_dns_directly_to_the_internet.toml')).toBe('elastic: no ATT&CK technique in [[rule.threat]]');
    expect(byPath(result, 'okta/initial_access_okta_user_attempted_unauthorized_access.toml')?.techniques).toEqual(['T1078', 'T1078.004']);
  });

  it('maps maturity = "deprecated" to deprecated', () => {
    const rule = byPath(result, '_deprecated/command_and_control_connection_attempt_by_non_ssh_root_session.toml');
    expect(rule).toMatchObject({ maturity: 'deprecated', techniques: ['T1095', 'T1548', 'T1548.003'] });
  });
});

describeWithShared('real splunk/security_content samples', () => {
  let result: RulesLoadResult;
  beforeAll(async () => {
    result = await loadRulesFromDirs([sharedPath('samples/splunk')]);
  });

  it('loads all 53 detections (every sample carries mitre_attack_id) with risk scores', () => {
    expect(result.files).toBe(53);
    expect(result.issues).toEqual([]);
    expect(result.rules).toHaveLength(53);
    expect(result.rules.every((r) => r.riskScore !== undefined && r.hasEnrichment)).toBe(true);
  });

  it('maps statuses and keeps several techniques per detection', () => {
    const counts = result.rules.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.maturity]: (acc[r.maturity] ?? 0) + 1 }), {});
    expect(counts).toEqual({ stable: 45, experimental: 6, deprecated: 2 });
    expect(byPath(result, 'application/pingid_new_mfa_method_registered_for_user.yml')?.techniques).toEqual(['T1621', 'T1556.006', 'T1098.005']);
    expect(byPath(result, 'endpoint/linux_ingress_tool_transfer_with_curl.yml')).toMatchObject({
      techniques: ['T1105'],
      riskScore: 12,
      dataSources: ['sysmon for linux eventid 1'],
    });
  });
});

describeWithShared('real DeTT&CT technique administration sample', () => {
  it('gives one imported score per technique: 342', () => {
    const path = sharedPath('samples/dettect/techniques-administration-endpoints.yaml');
    const { scores, issues } = loadDettectFile(readFileSync(path, 'utf8'), path);
    expect(issues).toEqual([]);
    expect(scores).toHaveLength(342);
    expect(new Set(scores.map((s) => s.techniqueId)).size).toBe(342);
    // T1001: detection never assessed (−1, no date), visibility 2 (latest, 2021-09-22) of 4.
    expect(scores.find((s) => s.techniqueId === 'T1001')).toEqual({ techniqueId: 'T1001', source: 'dettect', visibility: 50, origin: path });
    expect(scores.every((s) => (s.detection ?? 0) <= 100 && (s.visibility ?? 0) <= 100)).toBe(true);
  });
});
