import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerAssessCommand } from '../../src/cli/assess-command';
import { hasCoveredRelationshipId } from '../../src/domain/ids/stix-ids';
import { PROJECT_DIR } from '../support/env';

/** `coverage-connector assess` run as a real process on the shipped example (what `npm run demo` does). */

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const EXAMPLE = [
  'config/examples/report-apt-example.json',
  '--rules', 'config/examples/rules',
  '--controls', 'config/examples/controls.yml',
  '--data-sources', 'config/examples/data-sources.yml',
  '--validation', 'config/examples/validation.yml',
  '--now', '2026-02-12T09:00:00.000Z',
];

function cli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli/index.ts', 'assess', ...args], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    timeout: 60000,
  });
}

/** The same command in-process (no ts-node start-up per case): output captured, exit code read back. */
async function cliInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride();
  registerAssessCommand(program, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  const cwd = process.cwd();
  const previous = process.exitCode;
  process.chdir(PROJECT_DIR);
  try {
    process.exitCode = 0;
    await program.parseAsync(['assess', ...args], { from: 'user' });
    return { status: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = previous;
    process.chdir(cwd);
  }
}

describe('coverage-connector assess (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assess-cli-'));
  const bundleFile = join(dir, 'bundle.json');
  const layerFile = join(dir, 'layer.json');
  const preventionFile = join(dir, 'prevention.json');
  let run: SpawnSyncReturns<string>;

  beforeAll(() => {
    run = cli([...EXAMPLE, '--out-bundle', bundleFile, '--out-layer', layerFile, '--out-prevention-layer', preventionFile]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the technique table, both overall scores and the top gaps, and exits 0', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^TECHNIQUE\s+NAME\s+DETECTION\s+PREVENTION\s+WHY$/m);
    expect(run.stdout).toMatch(/^T1059\.001\s+PowerShell\s+\d+\s+\d+\s+detection \d+ = data source/m);
    // Only a disabled rule for T1071.001: a real gap at 0; its proxy control blocks (75).
    expect(run.stdout).toMatch(/^T1071\.001\s+Web Protocols\s+0\s+75\s/m);
    expect(run.stdout).toMatch(/^Overall DETECTION:\s+\d+\/100$/m);
    expect(run.stdout).toMatch(/^Overall PREVENTION:\s+\d+\/100$/m);
    expect(run.stdout).toMatch(/^Techniques tested:\s+15 of 15 \(1 attack pattern\(s\) without an ATT&CK id\)$/m);
    expect(run.stdout).toMatch(/^Top gaps \(priority = prevalence × impact × feasibility, \d+ in all\):$/m);
  });

  it('prints one warning line per broken example rule, naming the file', () => {
    for (const broken of ['sigma/proc_creation_win_broken_example.yml', 'elastic/broken_example_rule.toml', 'splunk/windows_broken_example_detection.yml']) {
      expect(run.stdout).toMatch(new RegExp(`^warning: config/examples/rules/${broken.replace(/[./]/g, '\\$&')}: .+$`, 'm'));
    }
    expect(run.stdout).toMatch(/^warning: attack pattern attack-pattern--\S+ \(Custom DLL side-loading loader \(vendor naming\)\) not assessed: no ATT&CK id/m);
  });

  it('writes the result bundle: the coverage with the printed scores and one deterministic has-covered per technique', () => {
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
    const [coverage, ...rels] = bundle.objects;
    expect(coverage).toMatchObject({ type: 'security-coverage', id: COVERAGE, covered_ref: 'report--f2b63e80-b523-4747-a069-35c002c690db', last_result: '2026-02-12T09:00:00.000Z', valid_to: '2026-02-13T09:00:00.000Z' });
    for (const { name, score } of coverage.coverage) {
      expect(run.stdout).toContain(`Overall ${name}:${name === 'DETECTION' ? '  ' : ' '}${score}/100`);
    }
    expect(rels).toHaveLength(15);
    for (const rel of rels) {
      expect(rel).toMatchObject({ type: 'relationship', relationship_type: 'has-covered', source_ref: COVERAGE, covered: true });
      expect(rel.id).toBe(hasCoveredRelationshipId(COVERAGE, rel.target_ref));
    }
  });

  it('writes Navigator 4.5 layers for DETECTION and PREVENTION', () => {
    const detection = JSON.parse(readFileSync(layerFile, 'utf8'));
    const prevention = JSON.parse(readFileSync(preventionFile, 'utf8'));
    expect(detection.versions.layer).toBe('4.5');
    expect(detection.techniques).toHaveLength(15);
    expect(detection.techniques.find((t: { techniqueID: string }) => t.techniqueID === 'T1071.001')).toMatchObject({ score: 0, enabled: true });
    expect(prevention.name).toMatch(/PREVENTION$/);
  });

  it('writes a byte-identical bundle on a second run with the same inputs', async () => {
    const again = join(dir, 'again.json');
    expect((await cliInProcess([...EXAMPLE, '--out-bundle', again])).status).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(bundleFile, 'utf8'));
  });

  it('prints machine-readable JSON with --json', async () => {
    const json = await cliInProcess([...EXAMPLE, '--json']);
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.coverage.id).toBe(COVERAGE);
    expect(out.techniques).toHaveLength(15);
    expect(out.issues).toHaveLength(3);
    expect(out.unmatched).toHaveLength(1);
  });

  it('applies a priorities file, and falls back to the defaults with a warning when it is invalid', async () => {
    const withOverrides = await cliInProcess([...EXAMPLE, '--priorities', 'config/examples/priorities.yml', '--json']);
    const gaps = JSON.parse(withOverrides.stdout).gaps as Array<{ techniqueId: string; prevalence: number; impact: number }>;
    expect(gaps.find((g) => g.techniqueId === 'T1021.001')?.prevalence).toBe(9);
    expect(gaps.find((g) => g.techniqueId === 'T1082')?.impact).toBe(1);
    const bad = join(dir, 'bad-priorities.yml');
    writeFileSync(bad, 'prevalence: { T1021: 42 }\n');
    const fallback = await cliInProcess([...EXAMPLE, '--priorities', bad]);
    expect(fallback.status).toBe(0);
    expect(fallback.stdout).toContain(`warning: ${bad}: invalid priorities file (prevalence.T1021:`);
  });

  it('exits 2 with one clear line when the bundle file is missing', () => {
    const missing = cli(['no/such/bundle.json', '--rules', 'config/examples/rules']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('error: bundle file not found: no/such/bundle.json');
  });

  it('exits 2 when the file is not a STIX bundle or holds no container', async () => {
    const notBundle = await cliInProcess(['config/examples/controls.yml', '--rules', 'config/examples/rules']);
    expect(notBundle.status).toBe(2);
    expect(notBundle.stderr).toMatch(/^error: bundle file config\/examples\/controls\.yml is not JSON/);
    const noContainer = await cliInProcess(['package.json', '--rules', 'config/examples/rules']);
    expect(noContainer.status).toBe(2);
    expect(noContainer.stderr).toMatch(/not a STIX bundle/);
  });

  it('keeps going with a warning when an evidence file is missing', async () => {
    const partial = await cliInProcess(['config/examples/report-apt-example.json', '--rules', 'config/examples/rules', '--controls', 'no/such/controls.yml']);
    expect(partial.status).toBe(0);
    expect(partial.stdout).toMatch(/^warning: no\/such\/controls\.yml: .+$/m);
    expect(partial.stdout).toMatch(/^Overall PREVENTION: not measured$/m);
  });
});
