import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SUITES } from './suites';
import { FIGURE_IDS, missingFigure, type Figure, type FigureId, type SuiteOptions } from './lib/figures';
import { describeMachine } from './lib/machine';
import { consoleTable, machineLine, type BenchReport } from './lib/report';
import { writeResults } from './lib/results-file';
import { nodePathEnv, transpileProject } from './lib/transpile';

/**
 * `npm run bench [-- --quick] [--json] [--only B1,B4] [--seed N] [--profile] [--no-write]`
 *
 * Transpiles the project to JavaScript, runs every suite in its own plain-node process
 * (bench/child.ts), on the same machine and broker, and prints a
 * table (stderr when --json, so stdout is pure JSON). A full run (no --quick) rewrites
 * bench/RESULTS.md unless --no-write. --profile adds `--cpu-prof` to every process that runs
 * connector code; profiles land in bench/profiles/.
 */

const PROJECT = resolve(__dirname, '..');

interface Args {
  quick: boolean;
  json: boolean;
  only?: Set<FigureId>;
  seed: number;
  profile: boolean;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, seed: 20260101, profile: false, write: true };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--quick') args.quick = true;
    else if (flag === '--json') args.json = true;
    else if (flag === '--profile') args.profile = true;
    else if (flag === '--no-write') args.write = false;
    else if (flag === '--seed') args.seed = Number(value());
    else if (flag === '--only') args.only = new Set(value().split(',').map((s) => s.trim().toUpperCase()) as FigureId[]);
    else throw new Error(`unknown option ${argv[i]} (use --quick, --json, --only B1,B4, --seed N, --profile, --no-write)`);
  }
  return args;
}

/** Time cap of one suite process: it is killed after it, and its figures are reported as errors. */
function capSeconds(suite: string, quick: boolean): number {
  if (quick) return { amqp: 40, pipeline: 75, assess: 30, load: 40, scheduler: 40 }[suite] ?? 40;
  const pipeline = 180 + Number(process.env.BENCH_B7_CAP_S ?? 240);
  return { amqp: 180, pipeline, assess: 120, load: 120, scheduler: 180 }[suite] ?? 180;
}

function runSuite(buildDir: string, suite: string, options: Omit<SuiteOptions, 'log' | 'report'>, capS: number, say: (l: string) => void): Promise<Figure[]> {
  const ids = SUITES[suite].ids;
  return new Promise((resolveFigures) => {
    const child = spawn(process.execPath, ['--expose-gc', ...options.profileArgs, join(buildDir, 'bench', 'child.js'), suite], {
      cwd: PROJECT,
      env: { ...process.env, ...nodePathEnv(PROJECT), BENCH_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let figures: Figure[] | undefined;
    const early = new Map<string, Figure>();
    const timer = setTimeout(() => {
      say(`${suite}: time cap of ${capS} s reached; killing it`);
      child.kill('SIGKILL');
    }, capS * 1000);
    child.on('message', (m: { figures?: Figure[]; figure?: Figure }) => {
      if (m.figure) early.set(m.figure.id, m.figure);
      if (m.figures) figures = m.figures;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ended = `suite process ended (${signal ?? `exit ${code}`}) before reporting`;
      resolveFigures(figures ?? ids.map((id) => early.get(id) ?? missingFigure(id, ended, 'error')));
    });
  });
}

/** Targets that depend on several figures (B2 is relative to B1). */
function applyRelativeTargets(figures: Figure[]): void {
  const b1 = figures.find((f) => f.id === 'B1');
  const b2 = figures.find((f) => f.id === 'B2');
  if (!b2 || b2.status !== 'ok') return;
  const ceiling = b1?.status === 'ok' ? b1.metrics.msgs_per_s : null;
  const rate = b2.metrics.enrichments_per_s;
  if (typeof ceiling === 'number' && typeof rate === 'number' && ceiling > 0) {
    b2.metrics.pct_of_b1 = Math.round((rate / ceiling) * 1000) / 10;
    b2.met = rate >= 0.25 * ceiling;
  } else {
    b2.metrics.pct_of_b1 = null;
    b2.met = null;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const amqpUrl = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
  const host = new URL(amqpUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`bench traffic stays on loopback: AMQP_URL host is ${host}`);
  const started = Date.now();
  const machine = await describeMachine(amqpUrl);
  say(`bench ${args.quick ? 'quick' : 'full'} run, seed ${args.seed} — ${machineLine(machine)}`);
  const tmpDir = mkdtempSync(join(tmpdir(), 'coverage-bench-'));
  const profileDir = join(PROJECT, 'bench', 'profiles');
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  const figures: Figure[] = [];
  const buildDir = join(tmpDir, 'build');
  const built = transpileProject(PROJECT, buildDir);
  say(`transpiled ${built.files} files (suites run as plain JavaScript, like the built connector)`);
  try {
    for (const [suite, { ids }] of Object.entries(SUITES)) {
      const wanted = ids.filter((id) => !args.only || args.only.has(id));
      if (wanted.length === 0) continue;
      say(`▶ ${suite} (${wanted.join(', ')})`);
      const t0 = Date.now();
      const options: Omit<SuiteOptions, 'log' | 'report'> = {
        wanted,
        quick: args.quick,
        seed: args.seed,
        amqpUrl,
        tmpDir: join(tmpDir, 'data', suite),
        profileArgs: args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
      };
      const got = await runSuite(buildDir, suite, options, capSeconds(suite, args.quick), say);
      figures.push(...got.filter((f) => wanted.includes(f.id)));
      say(`  done in ${Math.round((Date.now() - t0) / 100) / 10} s`);
    }
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  figures.sort((a, b) => FIGURE_IDS.indexOf(a.id) - FIGURE_IDS.indexOf(b.id));
  applyRelativeTargets(figures);
  const report: BenchReport = {
    mode: args.quick ? 'quick' : 'full',
    seed: args.seed,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine,
    figures,
  };
  say('');
  say(consoleTable(report));
  if (!args.quick && args.write && !args.only) {
    writeResults(join(PROJECT, 'bench', 'RESULTS.md'), report);
    say('\nbench/RESULTS.md updated');
  }
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
