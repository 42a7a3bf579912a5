import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assessInProcess } from '../support/assess-in-process';
import { describeWithShared, PROJECT_DIR, sharedPath, TS_REGISTER } from '../support/env';

/**
 * The detection-as-code gate on real rule files (../shared/samples/sigma): a copy of the rules is
 * the "repository", an earlier `assess --json` / `--out-bundle` is the baseline, then a change
 * deprecates one rule and deletes another. `--fail-on-regression` must exit 3 and name both causes;
 * unchanged rules or a threshold above the drop exit 0; bad use exits 2.
 */

const REPORT = sharedPath('samples', 'stix-reports', 'ryuk-ransomware.json');
const EFSPOTATO = 'windows/pipe_created/pipe_created_hktl_efspotato.yml';
const NOTEPAD = 'windows/network_connection/net_connection_win_notepad.yml';
const NOW = ['--now', '2026-03-01T09:00:00.000Z'];

const assess = (args: string[]) => assessInProcess(args, { columns: 200 });

describeWithShared('assess --baseline / --fail-on-regression on real Sigma rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assess-baseline-'));
  const rules = join(dir, 'rules');
  const baselineJson = join(dir, 'baseline.json');
  const baselineBundle = join(dir, 'baseline-bundle.json');
  const changedRules = join(dir, 'rules-changed');

  beforeAll(async () => {
    cpSync(sharedPath('samples', 'sigma', 'rules'), rules, { recursive: true });
    const base = await assess([REPORT, '--rules', rules, '--json', '--out-bundle', baselineBundle, ...NOW]);
    expect(base.status).toBe(0);
    writeFileSync(baselineJson, base.stdout);
    // The change under review: one rule deprecated, another deleted; both covered T1055.
    cpSync(rules, changedRules, { recursive: true });
    const efspotato = join(changedRules, EFSPOTATO);
    writeFileSync(efspotato, readFileSync(efspotato, 'utf8').replace(/^status: \w+$/m, 'status: deprecated'));
    unlinkSync(join(changedRules, NOTEPAD));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the baseline scores T1055 from the two rules the change touches', () => {
    const t1055 = (JSON.parse(readFileSync(baselineJson, 'utf8')) as { techniques: Array<{ techniqueId: string; detection: number; evidence: { rules: Array<{ title: string; state: string }> } }> }).techniques.find((t) => t.techniqueId === 'T1055')!;
    expect(t1055.detection).toBeGreaterThan(50);
    expect(t1055.evidence.rules.map((r) => [r.title, r.state])).toEqual(
      expect.arrayContaining([
        ['HackTool - EfsPotato Named Pipe Creation', 'counted'],
        ['Network Connection Initiated Via Notepad.EXE', 'counted'],
      ]),
    );
  });

  it('fails with exit code 3 and names the deprecated and the deleted rule (assess --json baseline)', async () => {
    const r = await assess([REPORT, '--rules', changedRules, '--baseline', baselineJson, '--fail-on-regression', ...NOW]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(
      /REGRESSION {2}T1055 DETECTION \d+ → 0: rule "HackTool - EfsPotato Named Pipe Creation" deprecated; rule "Network Connection Initiated Via Notepad.EXE" removed from the rule set/,
    );
    expect(r.stdout).toMatch(/Compared with baseline .*baseline\.json \(assess --json, run 2026-03-01T09:00:00\.000Z\), regression threshold 10 points:/);
    expect(r.stderr).toMatch(/^coverage regression: \d+ score\(s\) dropped by 10 points or more since .*baseline\.json \(first: /);
  });

  it('fails the same way against the --out-bundle baseline, naming what is weak now', async () => {
    const r = await assess([REPORT, '--rules', changedRules, '--baseline', baselineBundle, '--fail-on-regression', ...NOW]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/REGRESSION {2}T1055 DETECTION \d+ → 0: rule "HackTool - EfsPotato Named Pipe Creation" is deprecated now/);
    expect(r.stdout).toContain('note: the baseline is a result bundle (scores only): causes are what is weak in the current evidence');
  });

  it('passes when nothing changed', async () => {
    const r = await assess([REPORT, '--rules', rules, '--baseline', baselineJson, '--fail-on-regression', ...NOW]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  no score changed\n0 regression(s), 0 other drop(s), 0 rise(s), 0 technique(s) added, 0 removed');
  });

  it('passes when the drop is below the threshold given, and without --fail-on-regression', async () => {
    const high = await assess([REPORT, '--rules', changedRules, '--baseline', baselineJson, '--fail-on-regression', '100', ...NOW]);
    expect(high.status).toBe(0);
    expect(high.stdout).toMatch(/\n  lower {7}T1055 DETECTION \d+ → 0: /);
    const report = await assess([REPORT, '--rules', changedRules, '--baseline', baselineJson, ...NOW]);
    expect(report.status).toBe(0);
    expect(report.stdout).toContain('REGRESSION  T1055 DETECTION');
  });

  it('adds the diff to --json', async () => {
    const r = await assess([REPORT, '--rules', changedRules, '--baseline', baselineJson, '--fail-on-regression', '20', '--json', ...NOW]);
    expect(r.status).toBe(3);
    const out = JSON.parse(r.stdout) as { baseline: { threshold: number; format: string; regressions: Array<{ techniqueId?: string; causes: Array<{ kind: string }> }> } };
    expect(out.baseline).toMatchObject({ threshold: 20, format: 'assess-json' });
    const t1055 = out.baseline.regressions.find((x) => x.techniqueId === 'T1055')!;
    expect(t1055.causes.map((c) => c.kind)).toEqual(['rule-deprecated', 'rule-removed']);
  });

  it('exits 2 with one line for bad use', async () => {
    const noBaseline = await assess([REPORT, '--rules', rules, '--fail-on-regression', ...NOW]);
    expect([noBaseline.status, noBaseline.stderr]).toEqual([2, 'error: --fail-on-regression needs --baseline <file> (the --json output or --out-bundle of an earlier assess run)\n']);
    const missing = await assess([REPORT, '--rules', rules, '--baseline', join(dir, 'nope.json'), ...NOW]);
    expect([missing.status, missing.stderr]).toEqual([2, `error: --baseline ${join(dir, 'nope.json')}: file not found\n`]);
    const notAssess = join(dir, 'other.json');
    writeFileSync(notAssess, '{"hello": 1}');
    const wrong = await assess([REPORT, '--rules', rules, '--baseline', notAssess, ...NOW]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/^error: --baseline .*other\.json is not the --json output of `assess`: overall: /);
    const badThreshold = await assess([REPORT, '--rules', rules, '--baseline', baselineJson, '--fail-on-regression', 'lots', ...NOW]);
    expect([badThreshold.status, badThreshold.stderr]).toEqual([2, 'error: --fail-on-regression lots: the threshold must be an integer from 1 to 100 (points of score)\n']);
  });

  it('the real process exits 3 (what a CI job sees)', () => {
    const out = spawnSync(process.execPath, ['-r', TS_REGISTER, 'src/cli/index.ts', 'assess', REPORT, '--rules', changedRules, '--baseline', baselineJson, '--fail-on-regression', ...NOW], {
      cwd: PROJECT_DIR,
      encoding: 'utf8',
      timeout: 120000,
    });
    expect(out.status).toBe(3);
    expect(out.stdout).toContain('REGRESSION  T1055 DETECTION');
  });
});
