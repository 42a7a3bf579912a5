import { loadSplunkRule } from '../../../src/adapters/evidence/splunk-loader';
import { fixtureText } from './fixtures';

const detection = (tags: string, extra = ''): string =>
  ['name: D', 'id: d-1', 'status: production', "search: '| tstats count'", 'data_source:', '- Sysmon EventID 1', extra, 'tags:', tags].join('\n');

describe('Splunk loader', () => {
  it('reads mitre_attack_id, data sources, the rba risk score, observables and drilldowns', () => {
    const loaded = loadSplunkRule(fixtureText('rules/splunk/rba_detection.yml'), 'endpoint/x.yml');
    expect(loaded).toEqual({
      ok: true,
      value: {
        id: '5e1a0000-0000-4000-8000-00000000f001',
        title: 'Fixture Splunk Detection With RBA',
        format: 'splunk',
        path: 'endpoint/x.yml',
        techniques: ['T1105', 'T1140'],
        maturity: 'experimental',
        enabled: true,
        riskScore: 56,
        dataSources: ['sysmon eventid 1', 'windows event log security 4688'],
        hasEnrichment: true,
        platforms: ['windows'],
      },
    });
  });

  it('reports a detection without mitre_attack_id', () => {
    expect(loadSplunkRule(fixtureText('rules/splunk/no_mitre_attack_id.yml'), 'n.yml')).toEqual({
      ok: false,
      issue: { path: 'n.yml', reason: 'splunk: no ATT&CK technique (tags.mitre_attack_id)' },
    });
  });

  it('prefers tags.risk_score and treats a detection with no risk, observable or drilldown as unenriched', () => {
    const withRisk = loadSplunkRule(detection('  mitre_attack_id: [T1003]\n  risk_score: 42'), 'r.yml');
    expect(withRisk.ok && withRisk.value.riskScore).toBe(42);
    expect(withRisk.ok && withRisk.value.hasEnrichment).toBe(true);
    const bare = loadSplunkRule(detection('  mitre_attack_id: [T1003]'), 'r.yml');
    expect(bare.ok && bare.value.hasEnrichment).toBe(false);
    expect(bare.ok && 'riskScore' in bare.value).toBe(false);
  });

  it('maps production to stable and a detection under deprecated/ to deprecated', () => {
    const live = loadSplunkRule(detection('  mitre_attack_id: [T1003]'), 'endpoint/r.yml');
    expect(live.ok && live.value.maturity).toBe('stable');
    const parked = loadSplunkRule(detection('  mitre_attack_id: [T1003]'), 'deprecated/r.yml');
    expect(parked.ok && parked.value.maturity).toBe('deprecated');
  });

  it('reports a detection whose search is missing', () => {
    const loaded = loadSplunkRule('name: D\ntags:\n  mitre_attack_id: [T1003]\n', 'r.yml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^splunk: search: /);
  });
});
