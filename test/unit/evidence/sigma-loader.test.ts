import { loadSigmaRule, sigmaDataSources, sigmaTechniques } from '../../../src/adapters/evidence/sigma-loader';
import { fixtureText } from './fixtures';

const minimal = (extra: string): string =>
  ['title: T', 'logsource:', '  product: windows', '  category: process_creation', 'detection:', '  sel: {Image: x}', '  condition: sel', extra].join('\n');

describe('Sigma loader', () => {
  it('reads technique tags in any case and ignores tactic, group, software, cve and detection tags', () => {
    const loaded = loadSigmaRule(fixtureText('rules/sigma/windows/proc_creation_mixed_case_tags.yml'), 'windows/x.yml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.value).toEqual({
      id: '0f4b2a8e-0000-4000-8000-000000000001',
      title: 'Encoded PowerShell Command Line (fixture)',
      format: 'sigma',
      path: 'windows/x.yml',
      techniques: ['T1059.001', 'T1027'],
      maturity: 'stable',
      enabled: true,
      severity: 'high',
      dataSources: ['windows/process_creation', 'windows', 'process_creation'],
      hasEnrichment: true,
      platforms: ['windows'],
    });
  });

  it('reports a rule whose tags hold no technique', () => {
    const loaded = loadSigmaRule(fixtureText('rules/sigma/windows/registry_no_technique.yml'), 'r.yml');
    expect(loaded).toEqual({ ok: false, issue: { path: 'r.yml', reason: 'sigma: tags contain no ATT&CK technique' } });
  });

  it('reports invalid YAML with its line', () => {
    const loaded = loadSigmaRule(fixtureText('rules/sigma/windows/broken_indentation.yml'), 'b.yml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^yaml: invalid at line \d+/);
  });

  it('names the missing field of an incomplete rule', () => {
    const loaded = loadSigmaRule(fixtureText('rules/sigma/windows/missing_title.yml'), 'm.yml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^sigma: title: /);
  });

  it.each([
    ['stable', 'stable'],
    ['test', 'test'],
    ['experimental', 'experimental'],
    ['deprecated', 'deprecated'],
    ['unsupported', 'deprecated'],
    ['Stable', 'stable'],
  ])('maps status %s to maturity %s', (status, maturity) => {
    const loaded = loadSigmaRule(minimal(`status: ${status}\ntags: [attack.t1059]`), 'r.yml');
    expect(loaded.ok && loaded.value.maturity).toBe(maturity);
  });

  it('treats a rule without status as experimental and one under deprecated/ as deprecated', () => {
    const noStatus = loadSigmaRule(minimal('tags: [attack.t1059]'), 'r.yml');
    expect(noStatus.ok && noStatus.value.maturity).toBe('experimental');
    const parked = loadSigmaRule(fixtureText('rules/sigma/deprecated/old_rule.yml'), 'deprecated/linux/old_rule.yml');
    expect(parked.ok && parked.value.maturity).toBe('deprecated');
  });

  it('counts enrichment only for real false-positive notes on a rule of level medium or above', () => {
    const rule = (fp: string, level: string) => loadSigmaRule(minimal(`tags: [attack.t1059]\nlevel: ${level}\nfalsepositives:\n  - ${fp}`), 'r.yml');
    const enriched = (r: ReturnType<typeof loadSigmaRule>) => r.ok && r.value.hasEnrichment;
    expect(enriched(rule('Admin scripts', 'medium'))).toBe(true);
    expect(enriched(rule('Admin scripts', 'low'))).toBe(false);
    expect(enriched(rule('Unknown', 'critical'))).toBe(false);
    expect(enriched(loadSigmaRule(minimal('tags: [attack.t1059]\nlevel: high'), 'r.yml'))).toBe(false);
  });

  it('uses the path as id when the rule has none, and leaves severity out for an unknown level', () => {
    const loaded = loadSigmaRule(minimal('tags: [attack.t1059]\nlevel: urgent'), 'folder/r.yml');
    expect(loaded.ok && loaded.value.id).toBe('folder/r.yml');
    expect(loaded.ok && 'severity' in loaded.value).toBe(false);
  });

  it('builds data-source keys from the logsource parts present', () => {
    expect(sigmaDataSources({ product: 'Linux', service: 'auditd' })).toEqual(['linux/auditd', 'linux', 'auditd']);
    expect(sigmaDataSources({ category: 'webserver' })).toEqual(['webserver']);
    expect(sigmaDataSources({})).toEqual([]);
  });

  it('keeps each technique once and drops malformed ids', () => {
    expect(sigmaTechniques(['attack.t1059', 'ATTACK.T1059', 'attack.t1059.1', 'attack.t10590'])).toEqual(['T1059']);
  });
});
