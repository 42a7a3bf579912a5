import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuleFile, loadRulesFromDirs, type RulesLoadResult } from '../../../src/adapters/evidence/rule-files';
import { loadSentinelRule } from '../../../src/adapters/evidence/sentinel-loader';
import { loadWazuhRules } from '../../../src/adapters/evidence/wazuh-loader';
import { describeWithShared, sharedPath } from '../../support/env';

const SENTINEL = `id: 6dd2629c-534b-4275-8201-d7968b4fa77e
name: Scheduled Task Hide
severity: High
requiredDataConnectors:
  - connectorId: SecurityEvents
    dataTypes:
      - SecurityEvent
queryFrequency: 1d
status: Available
relevantTechniques:
  - T1562
  - t1053.005
query: SecurityEvent | where EventID == 4657
entityMappings:
  - entityType: Host
`;

const WAZUH = `<!-- comment before the first group -->
<var name="FREQ">8</var>
<group name="syslog,sshd,">
  <rule id="5700" level="0" noalert="1">
    <decoded_as>sshd</decoded_as>
    <description>SSHD messages grouped.</description>
    <mitre><id>T1021.004</id></mitre>
  </rule>
  <rule id="5712" level="10" frequency="$FREQ">
    <if_matched_sid>5710</if_matched_sid>
    <id>^4625$</id>
    <description>sshd: brute force &amp; &lt;scan&gt;</description>
    <mitre>
      <id>T1110</id>
      <id>TA0006</id>
    </mitre>
    <mitre><id>$(rule.mitre.id)</id><id>T1021.004</id></mitre>
    <group>authentication_failures,pci_dss_11.4,gdpr_IV_35.7.d,</group>
  </rule>
  <rule id="5713" level="5"><description>no mitre here</description></rule>
</group>
`;

describe('Sentinel template loader', () => {
  it('maps relevantTechniques, connectors + data types, status and entity mappings', () => {
    const loaded = loadSentinelRule(SENTINEL, 'Solutions/X/Analytic Rules/hide.yaml');
    expect(loaded).toEqual({
      ok: true,
      value: {
        id: '6dd2629c-534b-4275-8201-d7968b4fa77e',
        title: 'Scheduled Task Hide',
        format: 'sentinel',
        path: 'Solutions/X/Analytic Rules/hide.yaml',
        techniques: ['T1562', 'T1053.005'],
        maturity: 'stable',
        enabled: true,
        severity: 'high',
        dataSources: ['securityevents', 'securityevent'],
        hasEnrichment: true,
        platforms: ['windows'],
      },
    });
  });

  it('marks [Deprecated] in the name or file name as deprecated, and a missing status as test', () => {
    const byName = loadSentinelRule(SENTINEL.replace('name: Scheduled Task Hide', 'name: Hide [Deprecated]'), 'a.yaml');
    expect(byName.ok && byName.value.maturity).toBe('deprecated');
    const byFile = loadSentinelRule(SENTINEL, 'Beacon[Deprecated].yaml');
    expect(byFile.ok && byFile.value.maturity).toBe('deprecated');
    const noStatus = loadSentinelRule(SENTINEL.replace('status: Available\n', ''), 'a.yaml');
    expect(noStatus.ok && noStatus.value.maturity).toBe('test');
  });

  it('reports a template without technique, and is routed by the dispatcher by its keys', () => {
    expect(loadSentinelRule('name: X\ntactics: [Impact]\nrequiredDataConnectors: []\nquery: x\n', 'x.yaml')).toEqual({
      ok: false,
      issue: { path: 'x.yaml', reason: 'sentinel: no ATT&CK technique (relevantTechniques)' },
    });
    const routed = loadRuleFile(SENTINEL, 'x.yaml');
    expect(routed.ok && routed.value.format).toBe('sentinel');
  });
});

describe('Wazuh ruleset loader', () => {
  it('reads <mitre><id> only, skips tactic ids and placeholders, and level 0 does not count', () => {
    const loaded = loadWazuhRules(WAZUH, 'local_rules.xml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value).toEqual([
      expect.objectContaining({ id: 'wazuh:5700', enabled: false, techniques: ['T1021.004'] }),
      {
        id: 'wazuh:5712',
        title: 'sshd: brute force & <scan>',
        format: 'wazuh',
        path: 'local_rules.xml',
        techniques: ['T1110', 'T1021.004'],
        maturity: 'stable',
        enabled: true,
        severity: 'medium',
        dataSources: ['syslog', 'sshd'],
        hasEnrichment: false,
        platforms: ['linux'],
      },
    ]);
  });

  it('refuses DOCTYPE/entity declarations (billion laughs, XXE) before parsing', () => {
    const lol = `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n${WAZUH.replace('SSHD messages grouped.', '&b;')}`;
    const xxe = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${WAZUH.replace('SSHD messages grouped.', '&x;')}`;
    for (const text of [lol, xxe]) {
      const loaded = loadWazuhRules(text, 'h.xml');
      expect(loaded.ok ? 'loaded' : loaded.issue.reason).toMatch(/^xml: DOCTYPE\/ENTITY declarations are refused/);
    }
    // An undeclared entity stays text: nothing is expanded or fetched.
    const undeclared = loadWazuhRules(WAZUH.replace('SSHD messages grouped.', '&x;'), 'u.xml');
    expect(undeclared.ok && undeclared.value[0].title).toBe('&x;');
  });

  it('turns malformed XML, a bad level and a non-ruleset into one issue each', () => {
    const reason = (text: string): string => {
      const loaded = loadWazuhRules(text, 'b.xml');
      return loaded.ok ? 'loaded' : loaded.issue.reason;
    };
    expect(reason('<group name="x"><rule id="1" level="3"><mitre><id>T1110</id></mitre></rule>')).toMatch(/^xml: invalid at line 1: /);
    expect(reason('<group name="x"><rule id="1" level="high"><mitre><id>T1110</id></mitre></rule></group>')).toBe('wazuh: rule 1: level: expected a level from 0 to 16');
    expect(reason('<decoders><decoder name="x"/></decoders>')).toBe('xml: not a Wazuh ruleset (no <group> holding <rule> elements)');
    expect(reason('<group name="x"><rule id="1" level="3"/></group>')).toBe('wazuh: no ATT&CK technique (<mitre><id>) in any of its 1 rule(s)');
    expect(reason(`${'<group name="x">'.repeat(40)}${'</group>'.repeat(40)}`)).toMatch(/^xml: /);
    expect(reason('\u0000\u0001binary')).toMatch(/^xml: /);
  });

  it('is read from rule folders next to the other formats (.xml), each rule counted once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wazuh-'));
    try {
      writeFileSync(join(dir, 'local_rules.xml'), WAZUH);
      writeFileSync(join(dir, 'hide.yaml'), SENTINEL);
      const result = await loadRulesFromDirs([dir]);
      expect(result.files).toBe(2);
      expect(result.rules.map((r) => r.id).sort()).toEqual(['6dd2629c-534b-4275-8201-d7968b4fa77e', 'wazuh:5700', 'wazuh:5712']);
      expect(Array.isArray(result.byFile.get(join(dir, 'local_rules.xml')))).toBe(true);
      // A broken edit keeps the file's previous rules, as for one-rule formats.
      writeFileSync(join(dir, 'local_rules.xml'), '<group name="x">');
      const again = await loadRulesFromDirs([dir], { previous: result.byFile });
      expect(again.rules.filter((r) => r.format === 'wazuh')).toHaveLength(2);
      expect(again.issues[0].reason).toMatch(/previous version of this rule is kept/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithShared('real Azure-Sentinel analytic rules (../shared/samples/sentinel)', () => {
  let result: RulesLoadResult;
  beforeAll(async () => {
    result = await loadRulesFromDirs([sharedPath('samples/sentinel')]);
  });

  it('loads 21 of 23 templates; the two tactic-only ones are reported', () => {
    expect(result.files).toBe(23);
    expect(result.rules).toHaveLength(21);
    expect(result.rules.every((r) => r.format === 'sentinel')).toBe(true);
    expect(result.issues.map((i) => i.path.split('/').pop()).sort()).toEqual(['IPEntity_WireData.yaml', 'URLEntity_OfficeActivity.yaml']);
    expect(new Set(result.rules.flatMap((r) => r.techniques)).size).toBe(18);
  });

  it('marks the Solorigate beacon deprecated from its file name and keeps sub-techniques', () => {
    const beacon = result.rules.find((r) => r.path.endsWith('Solorigate-Network-Beacon[Deprecated].yaml'));
    expect(beacon).toMatchObject({ maturity: 'deprecated', techniques: ['T1102'] });
    const cross = result.rules.find((r) => r.path.endsWith('Cross-tenantAccessSettingsOrganizationAdded.yaml'));
    expect(cross?.techniques).toEqual(['T1078.004', 'T1136.003', 'T1087.004']);
    expect(cross?.dataSources).toEqual(['azureactivedirectory', 'auditlogs']);
  });
});

describeWithShared('real Wazuh ruleset (../shared/samples/wazuh)', () => {
  let result: RulesLoadResult;
  beforeAll(async () => {
    result = await loadRulesFromDirs([sharedPath('samples/wazuh')]);
  });

  it('loads the 299 rules that carry a technique from 9 files; the file without MITRE tags and the placeholder-only one are reported', () => {
    expect(result.files).toBe(11);
    expect(result.rules).toHaveLength(299);
    expect(result.issues.map((i) => i.path.split('/').pop()).sort()).toEqual(['0575-win-base_rules.xml', '0997-maltiverse_rules.xml']);
  });

  it('takes every <mitre> block of a rule, and never the tactic ids of the Graph rules', () => {
    const multi = result.rules.find((r) => r.id === 'wazuh:60111');
    expect(multi?.techniques.length).toBeGreaterThanOrEqual(2);
    expect(result.rules.flatMap((r) => r.techniques).some((t) => t.startsWith('TA'))).toBe(false);
    expect(result.rules.filter((r) => !r.enabled).map((r) => r.id).sort()).toEqual(['wazuh:60100', 'wazuh:60101', 'wazuh:91812', 'wazuh:92025', 'wazuh:92028', 'wazuh:92069']);
  });
});
