import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createPostgresHistoryStore, createSqliteHistoryStore } from '../src/adapters/history';
import { coverageHistory, formatCoverageHistory } from '../src/app/history/history-report';
import type { HistoryStore } from '../src/domain/history/history-ports';
import type { RunSnapshot } from '../src/domain/history/history-types';
import { compareRuns } from '../src/domain/history/regression';
import { snapshotOf } from '../src/domain/history/snapshot';
import { createEmbeddedAssessor } from '../src/domain/scoring/embedded-engine';
import { generateEvidence, generateRequest, generateTechniques } from './lib/generate-evidence';

/**
 * `npx ts-node --transpile-only bench/history-store.ts [--runs 1000] [--techniques 50] [--rules 3000] [--only sqlite|postgres]`
 *
 * Score-history figures (docs/history.md): storage growth per 1,000 runs of one coverage and the
 * time of the `history` query over a coverage with that many runs, for the embedded SQLite store and
 * the shared PostgreSQL store (TEST_POSTGRES_URL or the local server; skipped when absent).
 * Two run mixes: "realistic" (the evidence changes every 10th run, the other runs change nothing)
 * and "every run changes" (a rule toggled at every run: no snapshot is shared, the worst case).
 */

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = arg('runs', 1000);
const TECHNIQUES = arg('techniques', 50);
const RULES = arg('rules', 3000);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const QUERIES = 30;
const PG_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/coverage_history_test';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (n: number): number => Math.round(n * 100) / 100;

/** Variant k of the snapshot: one rule of one technique toggled and its score moved (same size as a real change). */
function variant(base: RunSnapshot, k: number): RunSnapshot {
  const s = JSON.parse(JSON.stringify(base)) as RunSnapshot;
  const withRules = s.techniques.filter((t) => t.evidence && t.evidence.rules.length > 0);
  const t = withRules[k % withRules.length];
  const rule = t.evidence!.rules[Math.floor(k / withRules.length) % t.evidence!.rules.length];
  rule.state = rule.state === 'counted' ? 'disabled' : 'counted';
  t.detection = Math.max(0, (t.detection ?? 0) - 1 - (k % 7));
  s.overall.DETECTION = Math.max(0, (s.overall.DETECTION ?? 0) - (k % 3));
  return s;
}

async function fill(store: HistoryStore, coverageId: string, snapshots: (i: number) => RunSnapshot): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const snapshot = snapshots(i);
    const runAt = new Date(Date.UTC(2026, 0, 1) + i * 3600_000);
    const started = process.hrtime.bigint();
    await store.append({ coverageId, coverageInternalId: `internal-${coverageId}`, coverageName: 'Bench coverage', runAt, outcome: i % 10 === 0 ? 'pushed' : 'unchanged', snapshot }, ({ previous, state }) =>
      compareRuns({ ...(previous ? { previous: previous.snapshot } : {}), current: snapshot, open: state.open, threshold: 10, runAt: runAt.toISOString() }),
    );
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

async function queryTimes(store: HistoryStore, coverageId: string, options: { limit: number; technique?: string }): Promise<number[]> {
  const times: number[] = [];
  const now = new Date(Date.UTC(2026, 3, 1));
  for (let i = 0; i < QUERIES; i++) {
    const started = process.hrtime.bigint();
    const report = await coverageHistory(store, coverageId, options);
    formatCoverageHistory(report!, now);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

interface Row {
  store: string;
  mix: string;
  runs: number;
  snapshots: number;
  bytes_per_1000_runs: number;
  append_p50_ms: number;
  append_p99_ms: number;
  history_1000_p50_ms: number;
  history_1000_p99_ms: number;
  history_30_p50_ms: number;
  history_technique_1000_p50_ms: number;
}

async function measure(name: string, open: () => HistoryStore, size: () => Promise<number>, base: RunSnapshot, technique: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [mix, pick] of [
    ['realistic (evidence changes every 10th run)', (i: number) => (i % 10 === 0 ? variant(base, i / 10) : variant(base, Math.floor(i / 10)))],
    ['every run changes', (i: number) => variant(base, i)],
  ] as const) {
    const store = open();
    const coverageId = `security-coverage--bench-${mix.length}`;
    await store.regressedCount(); // creates the tables before the empty size is read
    const empty = await size();
    const appends = await fill(store, coverageId, pick);
    const full = await size();
    const all = await queryTimes(store, coverageId, { limit: RUNS });
    const recent = await queryTimes(store, coverageId, { limit: 30 });
    const perTechnique = await queryTimes(store, coverageId, { limit: RUNS, technique });
    const snapshots = new Set((await store.runs(coverageId, { limit: RUNS })).map((r) => r.snapshotHash)).size;
    await store.close();
    rows.push({
      store: name,
      mix,
      runs: RUNS,
      snapshots,
      bytes_per_1000_runs: Math.round(((full - empty) * 1000) / RUNS),
      append_p50_ms: ms(percentile(appends, 50)),
      append_p99_ms: ms(percentile(appends, 99)),
      history_1000_p50_ms: ms(percentile(all, 50)),
      history_1000_p99_ms: ms(percentile(all, 99)),
      history_30_p50_ms: ms(percentile(recent, 50)),
      history_technique_1000_p50_ms: ms(percentile(perTechnique, 50)),
    });
    process.stderr.write(`${name} / ${mix}: done\n`);
  }
  return rows;
}

async function main(): Promise<void> {
  const catalogue = generateTechniques(7);
  const evidence = generateEvidence(7, RULES, catalogue);
  const request = generateRequest(7, TECHNIQUES, catalogue);
  const result = await createEmbeddedAssessor(evidence).assess(request, { now: new Date() });
  const base = snapshotOf(result);
  const technique = base.techniques.find((t) => t.detection !== undefined)!.id;
  const snapshotBytes = Buffer.byteLength(JSON.stringify(base));
  const rows: Row[] = [];

  const dir = mkdtempSync(join(tmpdir(), 'history-bench-'));
  let file = '';
  // Pages in use as a second connection sees them (WAL frames included, free pages not): the -wal
  // file alone would count frames that a checkpoint later folds into the same pages.
  const sqliteSize = async (): Promise<number> => {
    if (!readdirSync(dir).includes(file)) return 0;
    const db = new Database(join(dir, file), { readonly: true });
    try {
      const pages = Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }));
      return pages * Number(db.pragma('page_size', { simple: true }));
    } finally {
      db.close();
    }
  };
  let n = 0;
  if (ONLY !== 'postgres') rows.push(
    ...(await measure(
      'sqlite',
      () => {
        file = `history-${++n}.db`;
        return createSqliteHistoryStore(join(dir, file), { maxRunsPerCoverage: RUNS });
      },
      sqliteSize,
      base,
      technique,
    )),
  );
  rmSync(dir, { recursive: true, force: true });

  const admin = ONLY === 'sqlite' ? undefined : new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  const pgUp = !admin ? false : await admin.connect().then(
    () => true,
    (err: Error) => {
      process.stderr.write(`PostgreSQL not usable at TEST_POSTGRES_URL (${err.message}): skipped\n`);
      return false;
    },
  );
  if (admin && pgUp) {
    let schema = '';
    const pgSize = async (): Promise<number> => {
      const r = await admin.query(
        `SELECT COALESCE(SUM(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)), 0)::bigint AS n FROM pg_tables WHERE schemaname = $1`,
        [schema],
      );
      return Number(r.rows[0].n);
    };
    const schemas: string[] = [];
    rows.push(
      ...(await measure(
        'postgres',
        () => {
          schema = `history_bench_${process.pid}_${schemas.length}`;
          schemas.push(schema);
          return createPostgresHistoryStore(PG_URL, { maxRunsPerCoverage: RUNS, schema });
        },
        async () => {
          await admin.query('CHECKPOINT').catch(() => undefined);
          return pgSize();
        },
        base,
        technique,
      )),
    );
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  }

  const out = { runs: RUNS, techniques: TECHNIQUES, rules: RULES, snapshot_json_bytes: snapshotBytes, node: process.version, rows };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
