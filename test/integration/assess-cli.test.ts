import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { importAttackCatalogueFile } from '../../src/adapters/evidence/attack-catalogue-file';
import { registerAssessCommand } from '../../src/cli/assess-command';
import { hasCoveredRelationshipId } from '../../src/domain/ids/stix-ids';
import { describeWithShared, PROJECT_DIR, sharedPath, TS_REGISTER } from '../support/env';

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
  return spawnSync(process.execPath, ['-r', TS_REGISTER, 'src/cli/index.ts', 'assess', ...args], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    timeout: 60000,
  });
}

/** The same command in-process (no process start-up per case): output captured, exit code read back. */
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

  it('prints one line per technique with its weakest point, both overall scores and the top gaps, and exits 0', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^TECHNIQUE\s+NAME\s+DET\s+PREV\s+WEAKEST POINT$/m);
    // T1059.001: detection 99 but only an audit-mode control: prevention is what to look at first.
    expect(run.stdout).toMatch(/^T1059\.001\s+PowerShell\s+99\s+25\s+prevention 25: control "AppLocker script rules"/m);
    // Only a disabled rule for T1071.001: a real gap at 0; its proxy control blocks (75).
    expect(run.stdout).toMatch(/^T1071\.001\s+Web Protocols\s+0\s+75\s+no enabled rule/m);
    // One line each: the reasons are behind --explain.
    expect(run.stdout).not.toMatch(/^\s+detection \d+ = data source/m);
    expect(run.stdout).toMatch(/^Overall DETECTION:\s+\d+\/100$/m);
    expect(run.stdout).toMatch(/^Overall PREVENTION:\s+\d+\/100$/m);
    expect(run.stdout).toMatch(/^Techniques tested:\s+15 of 15 \(1 attack pattern\(s\) without an ATT&CK id\)$/m);
    expect(run.stdout).toMatch(/^Top gaps \(priority = prevalence × impact × feasibility × exposure, \d+ in all\):$/m);
    // Each gap says what to do, under its row; the first is not a technique detected at 99.
    expect(run.stdout).toMatch(/^ {3}1 {2}T1021\.001 .+\n {6}→ detection: /m);
    expect(run.stdout).toMatch(/→ prevention: switch control "AppLocker script rules" from audit to block/);
  });

  it('prints one warning line per broken example rule, naming the file', () => {
    for (const broken of ['sigma/proc_creation_win_broken_example.yml', 'elastic/broken_example_rule.toml', 'splunk/windows_broken_example_detection.yml']) {
      expect(run.stdout).toMatch(new RegExp(`^warning: config/examples/rules/${broken.replace(/[./]/g, '\\$&')}: .+$`, 'm'));
    }
    // Wrapped to 100 columns, continuation lines indented.
    expect(run.stdout.replace(/\n {2}/g, ' ')).toMatch(/^warning: attack pattern attack-pattern--\S+ \(Custom DLL side-loading loader \(vendor naming\)\) not assessed: no ATT&CK id/m);
  });

  it('fits 100 columns when piped (the demo): no line is wider', () => {
    const widths = run.stdout.split('\n').map((l) => l.length);
    expect(Math.max(...widths)).toBeLessThanOrEqual(100);
    // One line per technique and per warning, two per gap (its row and what to do).
    expect(widths.length).toBeLessThan(80);
  });

  it('names the container it assessed and lists the other containers of the bundle', () => {
    expect(run.stdout).toMatch(/^Container: EXAMPLE-SPIDER ransomware intrusion \(report, 15 techniques\)\n {11}report--f2b63e80-b523-4747-a069-35c002c690db$/m);
    expect(run.stdout).toMatch(/^Also in this bundle \(assess one with --container <id>\):\n {2}intrusion-set--1020e321-1f91-5b8d-a88f-666d9023b8dd {2}EXAMPLE-SPIDER \(intrusion-set, 5 techniques\)$/m);
  });

  it('writes the result bundle: the coverage with the printed scores and one deterministic has-covered per technique', () => {
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
    const [coverage, ...rest] = bundle.objects;
    // Besides the has-covered relationships the bundle may carry the summary note (result-bundle.ts).
    const rels = rest.filter((o: { type: string }) => o.type === 'relationship');
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

  it('writes Navigator 4.5 layers for DETECTION and PREVENTION, parents of scored sub-techniques open', () => {
    const detection = JSON.parse(readFileSync(layerFile, 'utf8'));
    const prevention = JSON.parse(readFileSync(preventionFile, 'utf8'));
    expect(detection.versions.layer).toBe('4.5');
    type Entry = { techniqueID: string; score?: number; showSubtechniques?: boolean };
    expect(detection.techniques.filter((t: Entry) => t.score !== undefined)).toHaveLength(15);
    // T1059 is in the report; the other parents are added only to open their sub-techniques.
    const open = detection.techniques.filter((t: Entry) => t.showSubtechniques).map((t: Entry) => `${t.techniqueID}${t.score === undefined ? '' : '(scored)'}`);
    expect(open.sort()).toEqual(['T1003', 'T1021', 'T1053', 'T1059(scored)', 'T1071', 'T1204', 'T1547', 'T1562', 'T1566']);
    expect(detection.techniques.find((t: { techniqueID: string }) => t.techniqueID === 'T1071.001')).toMatchObject({ score: 0, enabled: true });
    expect(prevention.name).toMatch(/PREVENTION$/);
  });

  it('writes a byte-identical bundle on a second run with the same inputs', async () => {
    const again = join(dir, 'again.json');
    expect((await cliInProcess([...EXAMPLE, '--out-bundle', again])).status).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(bundleFile, 'utf8'));
  });

  it('prints machine-readable JSON with --json: rules with title, format and a path that opens, controls by name', async () => {
    const json = await cliInProcess([...EXAMPLE, '--json']);
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.coverage.id).toBe(COVERAGE);
    expect(out.container).toEqual({ id: 'report--f2b63e80-b523-4747-a069-35c002c690db', type: 'report', name: 'EXAMPLE-SPIDER ransomware intrusion', techniques: 15 });
    expect(out.other_containers).toEqual([{ id: 'intrusion-set--1020e321-1f91-5b8d-a88f-666d9023b8dd', type: 'intrusion-set', name: 'EXAMPLE-SPIDER', techniques: 5 }]);
    expect(out.techniques).toHaveLength(15);
    expect(out.issues).toHaveLength(3);
    expect(out.unmatched).toHaveLength(1);
    const powershell = out.techniques.find((t: { techniqueId: string }) => t.techniqueId === 'T1059.001');
    expect(powershell.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ title: 'PowerShell Started With an Encoded Command', format: 'sigma', path: 'config/examples/rules/sigma/proc_creation_win_powershell_encoded_command.yml' }),
      ]),
    );
    for (const t of out.techniques) for (const r of t.rules) expect(existsSync(join(PROJECT_DIR, r.path))).toBe(true);
    expect(powershell.controls).toEqual([{ id: 'APPLOCKER-SCRIPTS', name: 'AppLocker script rules', mode: 'audit' }]);
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

/** A report bundle over the given ATT&CK ids (the attack patterns carry no `revoked` flag, as vendors write them). */
function reportBundle(ids: string[], extra: object[] = []): string {
  const pattern = (id: string, i: number) => ({
    type: 'attack-pattern',
    id: `attack-pattern--00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `Technique ${id}`,
    external_references: [{ source_name: 'mitre-attack', external_id: id }],
  });
  const patterns = ids.map(pattern);
  const report = { type: 'report', id: 'report--10000000-0000-4000-8000-000000000001', name: 'Test report', object_refs: patterns.map((p) => p.id) };
  return JSON.stringify({ type: 'bundle', id: 'bundle--10000000-0000-4000-8000-000000000001', objects: [report, ...patterns, ...extra] });
}

describe('coverage-connector assess: mistakes are one line and exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assess-mistakes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const REPORT = 'config/examples/report-apt-example.json';
  const oneError = (r: { status: number; stdout: string; stderr: string }, pattern: RegExp): void => {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };

  it('a --rules path that does not exist', async () => {
    oneError(await cliInProcess([REPORT, '--rules', '/nope']), /^error: --rules \/nope: no such file or folder$/m);
  });

  it('a rules folder with no rule, and one whose every rule is broken (the first problem is named)', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    oneError(await cliInProcess([REPORT, '--rules', empty]), /^error: no detection rule loaded from --rules \S+empty \(no \.yml, \.yaml or \.toml rule file found\); --allow-empty runs anyway$/m);
    oneError(
      await cliInProcess([REPORT, '--rules', 'config/examples/rules/sigma/proc_creation_win_broken_example.yml']),
      /^error: no detection rule loaded from .+\(1 file\(s\) could not be used, first config\/examples\/rules\/sigma\/proc_creation_win_broken_example\.yml: yaml: invalid/,
    );
  });

  it('no --rules at all', async () => {
    oneError(await cliInProcess([REPORT]), /^error: no --rules <dir> given/);
  });

  it('--allow-empty runs, and its closing lines do not claim success when nothing was tested', async () => {
    const r = await cliInProcess([REPORT, '--allow-empty']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Techniques tested:\s+0 of 15/m);
    expect(r.stdout).toMatch(/^Top gaps: none ranked: no technique was tested, so this run says nothing about coverage$/m);
    expect(r.stdout).not.toMatch(/every tested technique|at least 50/);
  });

  it('a container with no attack pattern (the daemon dead-letters it as NO_ATTACK_PATTERNS)', async () => {
    const file = join(dir, 'no-patterns.json');
    writeFileSync(file, reportBundle([], [{ type: 'malware', id: 'malware--10000000-0000-4000-8000-000000000009', name: 'x', is_family: true }]));
    oneError(await cliInProcess([file, '--rules', 'config/examples/rules']), /^error: report report--\S+ \("Test report"\) has no ATT&CK attack pattern to assess$/m);
  });

  it('--external-uri that is not an absolute http(s) URL', async () => {
    oneError(await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--external-uri', 'not-a-url']), /^error: --external-uri not-a-url: not an absolute URL/);
    oneError(await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--external-uri', 'file:///etc/passwd']), /^error: --external-uri file:\/\/\/etc\/passwd: a file URL, expected http or https/);
    const ok = await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--external-uri', 'https://assessor.example.org/runs/1', '--json']);
    expect(ok.status).toBe(0);
  });

  it('--container that is not in the bundle, or not a container', async () => {
    oneError(await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--container', 'report--nope']), /^error: --container report--nope: no such container in .+; containers: report--f2b63e80\S+ \(EXAMPLE-SPIDER ransomware intrusion\), intrusion-set--/);
    oneError(
      await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--container', 'identity--3c8e1e14-bb63-5a2b-9a2f-9a1d8d1d3c11']),
      /is a identity, not a container|no such container/,
    );
  });
});

describe('coverage-connector assess: choosing the container', () => {
  const REPORT = 'config/examples/report-apt-example.json';

  it('--container <id> assesses that container and lists the one not chosen', async () => {
    const r = await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--container', 'intrusion-set--1020e321-1f91-5b8d-a88f-666d9023b8dd']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Container: EXAMPLE-SPIDER \(intrusion-set, 5 techniques\)$/m);
    expect(r.stdout).toMatch(/^Techniques tested:\s+\d+ of 5$/m);
    expect(r.stdout).toMatch(/^ {2}report--f2b63e80-b523-4747-a069-35c002c690db\n {4}EXAMPLE-SPIDER ransomware intrusion \(report, 15 techniques\)$/m);
  });

  it('--container also takes an exact name', async () => {
    const r = await cliInProcess([REPORT, '--rules', 'config/examples/rules', '--container', 'example-spider', '--json']);
    expect(JSON.parse(r.stdout).container.id).toBe('intrusion-set--1020e321-1f91-5b8d-a88f-666d9023b8dd');
  });
});

describe('coverage-connector assess: --explain and --width', () => {
  const args = ['config/examples/report-apt-example.json', '--rules', 'config/examples/rules', '--controls', 'config/examples/controls.yml'];

  it('--explain prints every reason, rule (title, format, path) and control under each technique', async () => {
    const r = await cliInProcess([...args, '--explain']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^T1059\.001 .+\n {4}detection \d+ = data source \d+ \+ rule quality/m);
    expect(r.stdout).toMatch(/^ {4}rule "PowerShell Started With an Encoded Command" \(sigma, stable\):\n {6}config\/examples\/rules\/sigma\/proc_creation_win_powershell_encoded_command\.yml$/m);
    expect(r.stdout).toMatch(/^ {4}control "AppLocker script rules" \(APPLOCKER-SCRIPTS, audit\)$/m);
    expect(Math.max(...r.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('--explain T1059.001 explains that technique only; the option may come before the bundle file', async () => {
    const one = await cliInProcess([...args, '--explain', 'T1059.001']);
    expect(one.stdout.match(/^ {4}detection \d+ =/gm)).toHaveLength(1);
    expect(one.stdout).toMatch(/^T1059\.001 .+\n {4}detection/m);
    const before = await cliInProcess(['--explain', ...args]);
    expect(before.status).toBe(0);
    expect(before.stdout.match(/^ {4}detection \d+ =/gm)!.length).toBeGreaterThan(10);
  });

  it('fits a terminal narrower than 100 columns, and --width 0 does not cut anything', async () => {
    let stdout = '';
    const program = new Command().exitOverride();
    registerAssessCommand(program, { stdout: (t) => void (stdout += t), stderr: () => undefined, columns: 72 });
    const cwd = process.cwd();
    process.chdir(PROJECT_DIR);
    try {
      await program.parseAsync(['assess', ...args, '--explain'], { from: 'user' });
    } finally {
      process.chdir(cwd);
    }
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(72);
    const unlimited = await cliInProcess([...args, '--width', '0']);
    expect(unlimited.stdout).not.toContain('…');
    expect(unlimited.stdout).toMatch(/^warning: attack pattern attack-pattern--\S+ \(Custom DLL side-loading loader \(vendor naming\)\) not assessed: no ATT&CK id \(external_references/m);
  });
});

describe('coverage-connector assess: ATT&CK catalogue files and Navigator layers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assess-catalogue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const MINI = join(PROJECT_DIR, 'test/fixtures/evidence/attack/mini-attack-v15.json');
  const catalogueWarning = (stdout: string): string[] => stdout.split('\n').filter((l) => l.includes('catalogue'));

  it('reads the catalogue as JSON, gzip JSON, or the enterprise-attack bundle itself (plain or .gz)', async () => {
    const compact = join(dir, 'catalogue.json');
    await importAttackCatalogueFile(MINI, compact);
    writeFileSync(`${compact}.gz`, gzipSync(readFileSync(compact)));
    writeFileSync(join(dir, 'enterprise-attack-15.1.json.gz'), gzipSync(readFileSync(MINI)));
    for (const file of [compact, `${compact}.gz`, MINI, join(dir, 'enterprise-attack-15.1.json.gz')]) {
      const r = await cliInProcess(['config/examples/report-apt-example.json', '--rules', 'config/examples/rules', '--attack-catalogue', file, '--json']);
      expect({ file, issues: JSON.parse(r.stdout).issues.filter((i: { path: string }) => i.path === file) }).toEqual({ file, issues: [] });
    }
  });

  it('a binary file given as catalogue is one warning without its bytes', async () => {
    const binary = join(dir, 'binary.json');
    writeFileSync(binary, Buffer.from([0x00, 0x9c, 0xff, 0x01, 0x02, 0x1b, 0x5b, 0x32, 0x4a, 0x7f]));
    const r = await cliInProcess(['config/examples/report-apt-example.json', '--rules', 'config/examples/rules', '--attack-catalogue', binary]);
    expect(r.status).toBe(0);
    const [warning] = catalogueWarning(r.stdout.replace(/\n {2}/g, ' '));
    expect(warning).toMatch(/^warning: \S+binary\.json: catalogue: not JSON: binary content/);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/);
  });

  it('layers: a revoked id is written as its replacement, parents of scored sub-techniques are open', async () => {
    const bundle = join(dir, 'revoked.json');
    writeFileSync(bundle, reportBundle(['T1086', 'T1059']));
    const layerFile = join(dir, 'layer.json');
    const r = await cliInProcess([bundle, '--rules', 'config/examples/rules', '--attack-catalogue', MINI, '--out-layer', layerFile]);
    expect(r.status).toBe(0);
    const layer = JSON.parse(readFileSync(layerFile, 'utf8'));
    const ids = layer.techniques.map((t: { techniqueID: string }) => t.techniqueID);
    expect(ids).not.toContain('T1086');
    const replaced = layer.techniques.find((t: { techniqueID: string }) => t.techniqueID === 'T1059.001');
    expect(replaced.comment).toMatch(/^T1086 is revoked in ATT&CK; shown as T1059\.001\n/);
    expect(replaced.metadata).toEqual(expect.arrayContaining([{ name: 'revoked id', value: 'T1086' }]));
    expect(layer.techniques.find((t: { techniqueID: string }) => t.techniqueID === 'T1059')).toMatchObject({ showSubtechniques: true });
  });
});

describeWithShared('coverage-connector assess with the real ATT&CK 18.1 bundle', () => {
  it('writes revoked T1574.002 (DLL Side-Loading) as T1574.001 and opens T1574, reading the .json.gz directly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assess-attack18-'));
    try {
      const bundle = join(dir, 'report.json');
      writeFileSync(bundle, reportBundle(['T1574.002', 'T1059.001']));
      const layerFile = join(dir, 'layer.json');
      const r = await cliInProcess([bundle, '--rules', 'config/examples/rules', '--attack-catalogue', sharedPath('attack/enterprise-attack-18.1.json.gz'), '--out-layer', layerFile]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/warning: T1574\.002 is revoked in ATT&CK 18\.1; replaced by T1574\.001/);
      const ids = JSON.parse(readFileSync(layerFile, 'utf8')).techniques.map((t: { techniqueID: string; showSubtechniques?: boolean }) => `${t.techniqueID}${t.showSubtechniques ? '+' : ''}`);
      expect(ids.sort()).toEqual(['T1059+', 'T1059.001', 'T1574+', 'T1574.001']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
