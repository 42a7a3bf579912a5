import { loadElasticRule } from '../../../src/adapters/evidence/elastic-loader';
import type { Loaded } from '../../../src/adapters/evidence/parse-text';
import { loadSigmaRule } from '../../../src/adapters/evidence/sigma-loader';
import { loadSplunkRule } from '../../../src/adapters/evidence/splunk-loader';
import type { DetectionRule } from '../../../src/domain/evidence/evidence-types';
import { fixtureText } from './fixtures';

/** What every rule loader promises, whatever the format (one suite, run against each loader). */
const LOADERS: Array<{ name: string; load: (text: string, path: string) => Loaded<DetectionRule>; good: string; ext: string }> = [
  { name: 'sigma', load: loadSigmaRule, good: 'rules/sigma/windows/proc_creation_mixed_case_tags.yml', ext: 'yml' },
  { name: 'elastic', load: loadElasticRule, good: 'rules/elastic/execution_sub_and_tactic_only.toml', ext: 'toml' },
  { name: 'splunk', load: loadSplunkRule, good: 'rules/splunk/rba_detection.yml', ext: 'yml' },
];

const HOSTILE_INPUTS = ['', '   ', 'null', '42', '[]', '"just a string"', '{{{{', '\u0000\u0001binary', 'a = [1, 2', '- a\n- b', 'key: [unclosed', 'x'.repeat(10_000)];

describe.each(LOADERS)('rule loader contract: $name', ({ name, load, good, ext }) => {
  it('returns a rule of its own format with normalised ids, keys and a 0-100 risk score', () => {
    const loaded = load(fixtureText(good), `r.${ext}`);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const rule = loaded.value;
    expect(rule.format).toBe(name);
    expect(rule.path).toBe(`r.${ext}`);
    expect(rule.id.length).toBeGreaterThan(0);
    expect(rule.techniques.length).toBeGreaterThan(0);
    expect(rule.techniques.every((t) => /^T\d{4}(\.\d{3})?$/.test(t))).toBe(true);
    expect(new Set(rule.techniques).size).toBe(rule.techniques.length);
    expect(rule.dataSources.every((d) => d === d.toLowerCase() && d.trim() === d && d !== '')).toBe(true);
    if (rule.riskScore !== undefined) expect(rule.riskScore).toBeGreaterThanOrEqual(0);
    if (rule.riskScore !== undefined) expect(rule.riskScore).toBeLessThanOrEqual(100);
  });

  it.each(HOSTILE_INPUTS.map((text, i) => [i, text]))('turns malformed input #%s into one issue, never an exception', (_i, text) => {
    const loaded = load(text as string, `bad.${ext}`);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.path).toBe(`bad.${ext}`);
    expect(loaded.issue.reason).toMatch(/^[a-z]+: \S/);
    expect(loaded.issue.reason).not.toContain('\n');
  });
});
