import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuleFile, loadRulesFromDirs } from '../../../src/adapters/evidence/rule-files';
import { fixturePath, fixtureText } from './fixtures';

const sigma = (i: number, technique = 'T1059'): string =>
  `title: Rule ${i}\nid: rule-${i}\ntags: [attack.${technique.toLowerCase()}]\nlogsource: {product: windows}\ndetection: {sel: {a: ${i}}, condition: sel}\n`;

describe('rule folders: format dispatch', () => {
  it('loads every valid rule of a mixed folder and turns each broken file into one issue with its path', async () => {
    const root = fixturePath('rules');
    const result = await loadRulesFromDirs([root]);
    expect(result.rules.map((r) => [r.format, r.path]).sort()).toEqual([
      ['elastic', 'elastic/execution_sub_and_tactic_only.toml'],
      ['sigma', 'sigma/deprecated/old_rule.yml'],
      ['sigma', 'sigma/windows/proc_creation_mixed_case_tags.yml'],
      ['splunk', 'splunk/rba_detection.yml'],
    ]);
    const issues = Object.fromEntries(result.issues.map((i) => [i.path.slice(root.length + 1), i.reason]));
    expect(Object.keys(issues).sort()).toEqual([
      'elastic/broken_value.toml',
      'elastic/tactic_only.toml',
      'sigma/windows/broken_indentation.yml',
      'sigma/windows/missing_title.yml',
      'sigma/windows/registry_no_technique.yml',
      'splunk/macros.yml',
      'splunk/no_mitre_attack_id.yml',
    ]);
    expect(issues['sigma/windows/registry_no_technique.yml']).toBe('sigma: tags contain no ATT&CK technique');
    expect(issues['splunk/no_mitre_attack_id.yml']).toBe('splunk: no ATT&CK technique (tags.mitre_attack_id)');
    expect(issues['elastic/broken_value.toml']).toMatch(/^toml: invalid at line 3/);
    expect(issues['splunk/macros.yml']).toMatch(/^yaml: not a rule/);
    // README.md is not a rule file: neither loaded nor reported.
    expect(result.files).toBe(11);
    expect(result.rules.find((r) => r.path.startsWith('sigma/deprecated/'))?.maturity).toBe('deprecated');
  });

  it('routes YAML by content: logsource + detection is Sigma, search + mitre_attack_id is Splunk', () => {
    const asSigma = loadRuleFile(sigma(1), 'x.yaml');
    expect(asSigma.ok && asSigma.value.format).toBe('sigma');
    const asSplunk = loadRuleFile("name: S\nsearch: '| x'\ntags:\n  mitre_attack_id: [T1003]\n", 'x.yml');
    expect(asSplunk.ok && asSplunk.value.format).toBe('splunk');
    expect(loadRuleFile('- just\n- a list\n', 'x.yml')).toEqual({ ok: false, issue: { path: 'x.yml', reason: 'yaml: not a rule (the document is not a mapping)' } });
  });
});

describe('rule folders: hardening', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'evidence-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects a billion-laughs YAML with a clear reason instead of expanding it', () => {
    const loaded = loadRuleFile(fixtureText('hostile/billion-laughs.yml'), 'lol.yml');
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.issue.reason).toMatch(/^yaml: too many aliases .*billion-laughs/);
  });

  it('rejects duplicate keys and multi-document YAML, each with its own reason', () => {
    const duplicate = loadRuleFile(`${sigma(1)}title: again\n`, 'd.yml');
    expect(duplicate.ok ? undefined : duplicate.issue.reason).toMatch(/^yaml: invalid at line \d+: duplicated mapping key/);
    const multi = loadRuleFile(`${sigma(1)}---\n${sigma(2)}`, 'm.yml');
    expect(multi.ok ? undefined : multi.issue.reason).toBe('yaml: several documents in one file (multi-document rule collections are not supported)');
  });

  it('rejects a file over maxRuleFileBytes without reading it and loads the rest', async () => {
    writeFileSync(join(dir, 'small.yml'), sigma(1));
    writeFileSync(join(dir, 'big.yml'), sigma(2) + `description: "${'x'.repeat(2000)}"\n`);
    const result = await loadRulesFromDirs([dir], { maxRuleFileBytes: 1024 });
    expect(result.rules.map((r) => r.id)).toEqual(['rule-1']);
    expect(result.issues).toEqual([{ path: join(dir, 'big.yml'), reason: expect.stringMatching(/^file too large: \d+ bytes, limit 1024/) }]);
  });

  it('terminates on a symlink loop, reading each folder once', async () => {
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'r.yml'), sigma(1));
    symlinkSync(dir, join(dir, 'a', 'loop-to-root'));
    symlinkSync(join(dir, 'a'), join(dir, 'a', 'loop-to-self'));
    const result = await loadRulesFromDirs([dir]);
    expect(result.rules.map((r) => r.path)).toEqual(['a/r.yml']);
    expect(result.issues.map((i) => i.reason)).toEqual([
      expect.stringMatching(/already read .*symlink loop/),
      expect.stringMatching(/already read .*symlink loop/),
    ]);
  });

  it('does not follow a symlink whose target escapes the root (..)', async () => {
    const root = join(dir, 'root');
    const outside = join(dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.yml'), sigma(9));
    writeFileSync(join(root, 'ok.yml'), sigma(1));
    symlinkSync('../outside', join(root, 'escape-dir'));
    symlinkSync('../outside/secret.yml', join(root, 'escape-file.yml'));
    const result = await loadRulesFromDirs([root]);
    expect(result.rules.map((r) => r.id)).toEqual(['rule-1']);
    expect(result.issues.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: join(root, 'escape-dir'), reason: 'symlink not followed: its target escapes the root (..)' },
      { path: join(root, 'escape-file.yml'), reason: 'symlink not followed: its target escapes the root (..)' },
    ]);
  });

  it('follows a symlink that stays inside the root and loads its file once', async () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'r.yml'), sigma(1));
    symlinkSync(join(dir, 'real', 'r.yml'), join(dir, 'alias.yml'));
    const result = await loadRulesFromDirs([dir]);
    expect(result.rules).toHaveLength(1);
  });

  it('reports a dangling symlink and a missing root instead of throwing', async () => {
    symlinkSync(join(dir, 'nowhere.yml'), join(dir, 'dangling.yml'));
    const result = await loadRulesFromDirs([dir, join(dir, 'no-such-folder')]);
    expect(result.rules).toEqual([]);
    expect(result.issues).toEqual([
      { path: join(dir, 'dangling.yml'), reason: 'symlink not followed: not found' },
      { path: join(dir, 'no-such-folder'), reason: 'not found' },
    ]);
  });

  it('loads a large nested tree completely, in path order', async () => {
    for (let g = 0; g < 5; g += 1) {
      mkdirSync(join(dir, `group-${g}`, 'deep'), { recursive: true });
      for (let i = 0; i < 40; i += 1) writeFileSync(join(dir, `group-${g}`, i % 2 ? 'deep' : '', `r${String(i).padStart(2, '0')}.yml`), sigma(g * 100 + i));
    }
    const result = await loadRulesFromDirs([dir]);
    expect(result.issues).toEqual([]);
    expect(result.rules).toHaveLength(200);
    const paths = result.rules.map((r) => r.path);
    expect(paths).toEqual([...paths].sort());
  });
});
