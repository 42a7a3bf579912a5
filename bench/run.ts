import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SUITES } from './suites';
import { FIGURE_IDS, missingFigure, SUMMARY_KEYS, type Figure, type FigureId, type SuiteOptions } from './lib/figures';
import { describeMachine } from './lib/machine';
import { consoleTable, machineLine, type BenchReport } from './lib/report';
import { writeResults } from './lib/results-file';
import { nodePathEnv, transpileProject } from './lib/transpile';

/**
 * `npm run bench [-- --quick] [--json] [--only inventory,assess] [--seed N] [--profile] [--no-write]`
 *
 * Transpiles the project to JavaScript, runs every suite in its own plain-node process
 * (bench/child.ts), on the same machine and broker, and prints a table (stderr when --json; stdout
 * then gets one line: a JSON object with the headline figures flat, then the machine and every
 * figure). A full run (no --quick) rewrites bench/RESULTS.md unless --no-write. --profile adds
 * `--cpu-prof` to every process that runs connector code; profiles land in bench/profiles/.
 * Exits 1 when a figure could not be measured (a suite crashed, hit its time cap, or a headline
 * number is missing): the run is then not a measurement.
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
    else if (flag === '--only') {
      const ids = value().split(',').map((s) => s.trim());
      const unknown = ids.filter((id) => !FIGURE_IDS.includes(id as FigureId));
      if (unknown.length > 0) throw new Error(`--only: unknown figure(s) ${unknown.join(', ')} (figures: ${FIGURE_IDS.join(', ')})`);
      args.only = new Set(ids as FigureId[]);
    } else throw new Error(`unknown option ${argv[i]} (use --quick, --json, --only ${FIGURE_IDS.slice(0, 2).join(',')}, --seed N, --profile, --no-write)`);
  }
  return args;
}

/** Time cap of one suite process: it is killed after it, and its figures are reported as errors. */
function capSeconds(suite: string, quick: boolean): number {
  if (quick) return { inventory: 90, assess: 30, enrichment: 150, scheduler: 120 }[suite] ?? 60;
  const enrichment = 420 + Number(process.env.BENCH_MEMORY_CAP_S ?? 90);
  return { inventory: 240, assess: 120, enrichment, scheduler: 300, scheduler_1m: 600 }[suite] ?? 240;
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

/** The headline numbers, flat (null when not measured). */
export function summaryOf(figures: Figure[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [key, id, metric] of SUMMARY_KEYS) {
    const f = figures.find((x) => x.id === id && x.status === 'ok');
    const v = f?.metrics[metric];
    out[key] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return out;
}

/** Why this run is not a complete measurement, if it is not (what the old CI bench test checked). */
export function incompleteBecause(figures: Figure[], summary: Record<string, number | null>, only?: Set<FigureId>): string[] {
  const problems = figures.filter((f) => f.status !== 'ok' || typeof f.metrics[f.headline] !== 'number').map((f) => `${f.id}: ${f.status} ${f.note ?? 'no headline number'}`);
  for (const [key, id] of SUMMARY_KEYS) if (summary[key] === null && (!only || only.has(id)) && figures.some((f) => f.id === id)) problems.push(`${key}: not measured`);
  return problems;
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
  // Code that finds ../shared beside the project from its own folder finds it beside the build too.
  const shared = resolve(PROJECT, '..', 'shared');
  if (existsSync(shared)) symlinkSync(shared, join(tmpDir, 'shared'));
  const profileDir = join(PROJECT, 'bench', 'profiles');
  if (args.profile) mkdirSync(profileDir, { recursive: true });
  const figures: Figure[] = [];
  const buildDir = join(tmpDir, 'build');
  const built = transpileProject(PROJECT, buildDir);
  say(`transpiled ${built.files} files (suites run as plain JavaScript, like the built connector)`);
  try {
    for (const [suite, { ids }] of Object.entries(SUITES)) {
      const wanted = ids.filter((id) => (args.only ? args.only.has(id) : !(args.quick && SUITES[suite].fullOnly)));
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
  const summary = summaryOf(figures);
  const report: BenchReport = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    summary,
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
  if (args.json) process.stdout.write(`${JSON.stringify({ ...summary, ...report })}\n`);
  const problems = incompleteBecause(figures, summary, args.only);
  if (problems.length > 0) {
    say(`\nbench incomplete (exit 1):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
