import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvidence } from '../../src/adapters/evidence';
import { PROJECT_DIR } from '../support/env';
import { recordFigures } from './fault-results';

/**
 * Rule inventories with hostile content, end to end through loadEvidence (what the daemon and
 * `assess` call): every trap becomes a LoadIssue with a reason, the good rules still load, nothing
 * outside the configured folder is read, and loading ends (no hang, bounded memory).
 */

const sigma = (title: string, technique: string, padding = ''): string =>
  `title: ${title}\nid: 0f4b2a8e-0000-4000-8000-${String(Math.abs(hashOf(title))).padStart(12, '0').slice(0, 12)}\n` +
  `tags:\n  - attack.${technique.toLowerCase()}\nlogsource:\n  product: windows\n  category: process_creation\n` +
  `detection:\n  selection:\n    Image|endswith: '\\\\x.exe'\n  condition: selection\nlevel: high\n${padding ? `description: ${padding}\n` : ''}`;

function hashOf(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

function hasMkfifo(): boolean {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('hostile rule inventories through loadEvidence', () => {
  let base: string;
  let rules: string;
  let outside: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'coverage-hostile-'));
    rules = join(base, 'rules');
    outside = join(base, 'outside');
    mkdirSync(join(rules, 'windows'), { recursive: true });
    mkdirSync(outside);
    // A good rule that must survive everything else in the folder.
    writeFileSync(join(rules, 'windows', 'good.yml'), sigma('Good rule', 'T1059'));
    // A valid rule OUTSIDE the folder: if any trap below reads it, T1003 shows up in the rules.
    writeFileSync(join(outside, 'secret.yml'), sigma('Outside rule', 'T1003'));
    // Billion laughs (fixture shipped by the loaders' tests).
    writeFileSync(join(rules, 'windows', 'laughs.yml'), readFileSync(join(PROJECT_DIR, 'test/fixtures/evidence/hostile/billion-laughs.yml')));
    // Symlinks escaping the folder through `..`, to a file and to a folder.
    symlinkSync(join('..', '..', 'outside', 'secret.yml'), join(rules, 'windows', 'escape.yml'));
    symlinkSync(join('..', 'outside'), join(rules, 'escape-dir'));
    symlinkSync('/etc/passwd', join(rules, 'passwd.yml'));
    // Symlink loops: a folder pointing at its parent, and two links pointing at each other.
    symlinkSync('..', join(rules, 'windows', 'loop'));
    symlinkSync('b.yml', join(rules, 'a.yml'));
    symlinkSync('a.yml', join(rules, 'b.yml'));
    // Over the size limit (set to 4 KiB below).
    writeFileSync(join(rules, 'windows', 'huge.yml'), sigma('Huge rule', 'T1055', 'x'.repeat(64 * 1024)));
    // 40 nested folders (deeper than the walker's limit) with a rule at the bottom.
    let deep = join(rules, 'deep');
    for (let i = 0; i < 40; i++) deep = join(deep, `d${i}`);
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'bottom.yml'), sigma('Bottom rule', 'T1547'));
    // Not text at all, and a named pipe called like a rule (opening it for reading would block forever).
    writeFileSync(join(rules, 'binary.yml'), Buffer.from([0, 159, 146, 150, 0xff, 0xfe, 0, 0]));
    if (hasMkfifo()) execFileSync('mkfifo', [join(rules, 'pipe.yml')]);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('rejects every trap with a reason, keeps the good rule and reads nothing outside the folder', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const evidence = await loadEvidence({
      rulesDirs: [rules],
      layers: [join(rules, 'a.yml')], // a symlink loop as a configured file
      maxRuleFileBytes: 4096,
    });
    const elapsedMs = Date.now() - started;
    const heapGrowthMb = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024);
    const reasonOf = (needle: string): string | undefined => evidence.issues.find((i) => i.path.includes(needle))?.reason;

    const techniques = evidence.rules.flatMap((r) => r.techniques.map((t) => t.toUpperCase()));
    expect(techniques).toContain('T1059');
    expect(techniques).not.toContain('T1003'); // the outside rule was never read through the folder
    expect(techniques).not.toContain('T1055'); // over the size limit
    expect(reasonOf('laughs.yml')).toMatch(/too many aliases|billion/i);
    expect(reasonOf('escape.yml')).toMatch(/escapes the root/);
    expect(reasonOf('escape-dir')).toMatch(/escapes the root/);
    expect(reasonOf('passwd.yml')).toMatch(/escapes the root/);
    expect(reasonOf(join('windows', 'loop'))).toMatch(/already read|loop/);
    expect(reasonOf('a.yml')).toMatch(/loop/);
    expect(reasonOf('huge.yml')).toMatch(/file too large: \d+ bytes, limit 4096/);
    expect(evidence.issues.some((i) => /deeper than \d+ folders/.test(i.reason))).toBe(true);
    expect(reasonOf('binary.yml')).toBeDefined();
    if (hasMkfifo()) expect(reasonOf('pipe.yml')).toMatch(/not a regular file/);
    expect(evidence.issues.every((i) => i.reason.trim().length > 0)).toBe(true);

    recordFigures('hostile_inventories', {
      files_planted: 13,
      rules_loaded: evidence.rules.length,
      issues: evidence.issues.length,
      outside_rules_read: techniques.filter((t) => t === 'T1003').length,
      elapsed_ms: elapsedMs,
      heap_growth_mb: heapGrowthMb,
    });
    expect(heapGrowthMb).toBeLessThan(64);
  });
});
