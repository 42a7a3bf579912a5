import { loadElasticRule } from '../../../src/adapters/evidence/elastic-loader';
import { fixtureText } from './fixtures';

const rule = (threat: string, metadata = 'maturity = "production"'): string =>
  `[metadata]\n${metadata}\n\n[rule]\nname = "R"\nrule_id = "r-1"\nrisk_score = 47\nseverity = "medium"\n\n${threat}`;
const technique = (id: string) => `[[rule.threat]]\nframework = "MITRE ATT&CK"\n[[rule.threat.technique]]\nid = "${id}"\nname = "x"\n`;

describe('Elastic loader', () => {
  it('lists a technique and its sub-technique, skipping tactic-only and non-ATT&CK threat entries', () => {
    const loaded = loadElasticRule(fixtureText('rules/elastic/execution_sub_and_tactic_only.toml'), 'x.toml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value).toEqual({
      id: '7f1d0000-0000-4000-8000-00000000e001',
      title: 'Fixture PowerShell Encoded Command',
      format: 'elastic',
      path: 'x.toml',
      techniques: ['T1059', 'T1059.001'],
      maturity: 'experimental',
      enabled: false,
      severity: 'high',
      riskScore: 73,
      dataSources: ['logs-endpoint.events.process-*', 'winlogbeat-*', 'endpoint', 'windows', 'sysmon', 'elastic defend'],
      hasEnrichment: true,
      platforms: ['windows'],
    });
  });

  it('reports a rule whose only threat entry is a tactic', () => {
    expect(loadElasticRule(fixtureText('rules/elastic/tactic_only.toml'), 't.toml')).toEqual({
      ok: false,
      issue: { path: 't.toml', reason: 'elastic: no ATT&CK technique in [[rule.threat]]' },
    });
  });

  it('reports invalid TOML with its line', () => {
    const loaded = loadElasticRule(fixtureText('rules/elastic/broken_value.toml'), 'b.toml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^toml: invalid at line 3\b/);
  });

  it.each([
    ['production', 'stable'],
    ['development', 'experimental'],
    ['deprecated', 'deprecated'],
  ])('maps maturity %s to %s', (maturity, expected) => {
    const loaded = loadElasticRule(rule(technique('T1003'), `maturity = "${maturity}"`), 'r.toml');
    expect(loaded.ok && loaded.value.maturity).toBe(expected);
  });

  it('marks a rule under _deprecated/ as deprecated whatever its metadata says', () => {
    const loaded = loadElasticRule(rule(technique('T1003')), 'rules/_deprecated/r.toml');
    expect(loaded.ok && loaded.value.maturity).toBe('deprecated');
  });

  it('defaults to enabled and counts a risk score alone as enrichment', () => {
    const loaded = loadElasticRule(rule(technique('T1003')), 'r.toml');
    expect(loaded.ok && loaded.value.enabled).toBe(true);
    expect(loaded.ok && loaded.value.hasEnrichment).toBe(true);
    expect(loaded.ok && loaded.value.riskScore).toBe(47);
  });

  it('rejects a risk score outside 0-100, naming the field', () => {
    const loaded = loadElasticRule(rule(technique('T1003')).replace('risk_score = 47', 'risk_score = 470'), 'r.toml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^elastic: rule\.risk_score: /);
  });
});
