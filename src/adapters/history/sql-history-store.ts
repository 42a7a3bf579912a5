import type {
  AppendContext,
  AppendDecision,
  AppendResult,
  AppendRun,
  CoverageHistoryState,
  CoverageSummary,
  HistoryRun,
  HistoryStore,
  TechniqueScores,
} from '../../domain/history/history-ports';
import type { OpenRegression, RunChanges, RunSnapshot } from '../../domain/history/history-types';
import { sameSnapshot, techniqueScoresOf, testedCount } from '../../domain/history/snapshot';
import { compressSnapshot, decodeSnapshot, snapshotKey } from './snapshot-codec';
import { setBounded } from '../../domain/bounded-map';
import { noChanges } from '../../domain/history/regression';

/**
 * The history store over SQL, shared by the SQLite and PostgreSQL adapters: same tables, same
 * statements (`?` placeholders; the PostgreSQL dialect numbers them). Times are epoch milliseconds
 * in BIGINT columns and JSON is TEXT, so both databases store the same values.
 */

export interface SqlExec {
  all<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface SqlDialect {
  readonly description: string;
  /**
   * Runs `fn` in one transaction during which no other append of the same coverage (in this
   * process or another replica) can run; the coverage's state row exists when `fn` starts.
   */
  transaction<T>(coverageId: string, fn: (tx: SqlExec) => Promise<T>): Promise<T>;
  /** Outside any transaction (reads, pruning). */
  readonly exec: SqlExec;
  close(): Promise<void>;
}

export interface SqlHistoryOptions {
  /** Runs kept per coverage; older ones are dropped when a run is appended. */
  maxRunsPerCoverage: number;
  /** Wall clock for `recorded_at` (tests). */
  clock?: () => Date;
}

/** Tables of both dialects (types differ only in the id column and the binary type). */
export function schemaStatements(idColumn: string, binaryType: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS coverage_runs (
      id ${idColumn},
      coverage_id TEXT NOT NULL,
      coverage_internal_id TEXT,
      coverage_name TEXT,
      run_at BIGINT NOT NULL,
      recorded_at BIGINT NOT NULL,
      outcome TEXT NOT NULL,
      backend TEXT NOT NULL,
      detection INTEGER,
      prevention INTEGER,
      techniques INTEGER NOT NULL,
      tested INTEGER NOT NULL,
      regressions INTEGER NOT NULL,
      recoveries INTEGER NOT NULL,
      snapshot_hash TEXT NOT NULL,
      changes TEXT NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS coverage_runs_by_coverage ON coverage_runs (coverage_id, run_at, id)',
    'CREATE INDEX IF NOT EXISTS coverage_runs_by_internal_id ON coverage_runs (coverage_internal_id)',
    'CREATE INDEX IF NOT EXISTS coverage_runs_by_time ON coverage_runs (run_at)',
    'CREATE INDEX IF NOT EXISTS coverage_runs_by_snapshot ON coverage_runs (coverage_id, snapshot_hash)',
    `CREATE TABLE IF NOT EXISTS coverage_snapshots (
      coverage_id TEXT NOT NULL,
      hash TEXT NOT NULL,
      payload ${binaryType} NOT NULL,
      scores TEXT NOT NULL,
      PRIMARY KEY (coverage_id, hash)
    )`,
    `CREATE TABLE IF NOT EXISTS coverage_history_state (
      coverage_id TEXT PRIMARY KEY,
      open_regressions TEXT NOT NULL,
      marked_note TEXT,
      updated_at BIGINT NOT NULL
    )`,
  ];
}

/** Inserts the coverage's state row when missing (dialects call it at the start of `transaction`). */
export const ENSURE_STATE_SQL = "INSERT INTO coverage_history_state (coverage_id, open_regressions, marked_note, updated_at) VALUES (?, '[]', NULL, ?) ON CONFLICT (coverage_id) DO NOTHING";

interface RunRow {
  id: number | string;
  coverage_id: string;
  coverage_internal_id: string | null;
  coverage_name: string | null;
  run_at: number | string;
  outcome: string;
  backend: string;
  detection: number | null;
  prevention: number | null;
  techniques: number;
  tested: number;
  snapshot_hash: string;
  changes: string;
}

const RUN_COLUMNS = 'id, coverage_id, coverage_internal_id, coverage_name, run_at, outcome, backend, detection, prevention, techniques, tested, snapshot_hash, changes';

function runOf(row: RunRow): HistoryRun {
  const run: HistoryRun = {
    id: Number(row.id),
    coverageId: row.coverage_id,
    runAt: new Date(Number(row.run_at)).toISOString(),
    outcome: row.outcome === 'pushed' ? 'pushed' : 'unchanged',
    backend: row.backend,
    techniques: Number(row.techniques),
    tested: Number(row.tested),
    snapshotHash: row.snapshot_hash,
    changes: JSON.parse(row.changes) as RunChanges,
  };
  if (row.coverage_internal_id) run.coverageInternalId = row.coverage_internal_id;
  if (row.coverage_name) run.coverageName = row.coverage_name;
  if (row.detection !== null && row.detection !== undefined) run.detection = Number(row.detection);
  if (row.prevention !== null && row.prevention !== undefined) run.prevention = Number(row.prevention);
  return run;
}

function stateOf(row: { open_regressions: string; marked_note: string | null } | undefined): CoverageHistoryState | undefined {
  if (!row) return undefined;
  return { open: JSON.parse(row.open_regressions) as OpenRegression[], markedNote: row.marked_note ?? null };
}

/** Coverages whose last snapshot is kept in memory (the shared rule records make each ~20 KB). */
const REMEMBERED_SNAPSHOTS = 256;

export function createSqlHistoryStore(dialect: SqlDialect, options: SqlHistoryOptions): HistoryStore {
  const clock = options.clock ?? (() => new Date());
  const keep = Math.max(1, Math.floor(options.maxRunsPerCoverage));
  const { exec } = dialect;

  /**
   * The snapshot this process appended last per coverage, with its hash (bounded, oldest out): the
   * next run of the coverage (the re-trigger of its own write, a few seconds later) usually has the
   * same content, recognised by comparison instead of hashing ~150 KB of canonical JSON again.
   */
  const appendedLast = new Map<string, { hash: string; snapshot: RunSnapshot }>();

  async function snapshotIn(db: SqlExec, coverageId: string, hash: string): Promise<RunSnapshot | undefined> {
    const rows = await db.all<{ payload: Buffer }>('SELECT payload FROM coverage_snapshots WHERE coverage_id = ? AND hash = ?', [coverageId, hash]);
    return rows[0] ? decodeSnapshot(rows[0].payload) : undefined;
  }

  /** Standard id of a coverage given its standard or internal id (the CLI accepts either). */
  async function resolve(id: string): Promise<string> {
    if (id.includes('--')) return id;
    const rows = await exec.all<{ coverage_id: string }>('SELECT coverage_id FROM coverage_runs WHERE coverage_internal_id = ? ORDER BY run_at DESC LIMIT 1', [id]);
    return rows[0]?.coverage_id ?? id;
  }

  async function trim(tx: SqlExec, coverageId: string): Promise<number> {
    const cut = await tx.all<{ run_at: number | string; id: number | string }>(
      'SELECT run_at, id FROM coverage_runs WHERE coverage_id = ? ORDER BY run_at DESC, id DESC LIMIT 1 OFFSET ?',
      [coverageId, keep],
    );
    if (!cut[0]) return 0;
    const at = Number(cut[0].run_at);
    const id = Number(cut[0].id);
    const removed = await tx.run('DELETE FROM coverage_runs WHERE coverage_id = ? AND (run_at < ? OR (run_at = ? AND id <= ?))', [coverageId, at, at, id]);
    await tx.run(
      'DELETE FROM coverage_snapshots WHERE coverage_id = ? AND NOT EXISTS (SELECT 1 FROM coverage_runs r WHERE r.coverage_id = coverage_snapshots.coverage_id AND r.snapshot_hash = coverage_snapshots.hash)',
      [coverageId],
    );
    return removed;
  }

  /** The coverage's history state and its latest run (none yet: empty state, no row). */
  async function latestOf(tx: SqlExec, coverageId: string): Promise<{ state: CoverageHistoryState; last: RunRow[] }> {
    const stateRows = await tx.all<{ open_regressions: string; marked_note: string | null }>('SELECT open_regressions, marked_note FROM coverage_history_state WHERE coverage_id = ?', [coverageId]);
    const last = await tx.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM coverage_runs WHERE coverage_id = ? ORDER BY run_at DESC, id DESC LIMIT 1`, [coverageId]);
    return { state: stateOf(stateRows[0]) ?? { open: [], markedNote: null }, last };
  }

  /** Inserts one run row; `content` is what the run's snapshot says. */
  async function insertRun(
    tx: SqlExec,
    input: Omit<AppendRun, 'snapshot'>,
    content: { backend: string; detection: number | null; prevention: number | null; techniques: number; tested: number; snapshotHash: string; changes: RunChanges },
  ): Promise<HistoryRun> {
    const inserted = await tx.all<{ id: number | string }>(
      `INSERT INTO coverage_runs (coverage_id, coverage_internal_id, coverage_name, run_at, recorded_at, outcome, backend, detection, prevention, techniques, tested, regressions, recoveries, snapshot_hash, changes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        input.coverageId,
        input.coverageInternalId ?? null,
        input.coverageName ?? null,
        input.runAt.getTime(),
        clock().getTime(),
        input.outcome,
        content.backend,
        content.detection,
        content.prevention,
        content.techniques,
        content.tested,
        content.changes.regressions.length,
        content.changes.recoveries.length,
        content.snapshotHash,
        JSON.stringify(content.changes),
      ],
    );
    return {
      id: Number(inserted[0].id),
      coverageId: input.coverageId,
      runAt: input.runAt.toISOString(),
      outcome: input.outcome,
      backend: content.backend,
      techniques: content.techniques,
      tested: content.tested,
      snapshotHash: content.snapshotHash,
      changes: content.changes,
      ...(input.coverageInternalId ? { coverageInternalId: input.coverageInternalId } : {}),
      ...(input.coverageName ? { coverageName: input.coverageName } : {}),
      ...(content.detection !== null ? { detection: content.detection } : {}),
      ...(content.prevention !== null ? { prevention: content.prevention } : {}),
    };
  }

  return {
    description: dialect.description,

    append(input: AppendRun, decide: (context: AppendContext) => AppendDecision): Promise<AppendResult> {
      return dialect.transaction(input.coverageId, async (tx) => {
        const { state, last } = await latestOf(tx, input.coverageId);
        const context: AppendContext = { state };
        // Same content as the snapshot this process appended last for the coverage, still the latest
        // run's: its hash, without the canonical text. Else the text and its hash.
        const mine = appendedLast.get(input.coverageId);
        const { hash, text } =
          mine && mine.hash === last[0]?.snapshot_hash && sameSnapshot(mine.snapshot, input.snapshot) ? { hash: mine.hash, text: undefined } : snapshotKey(input.snapshot);
        // Same content as the previous run (most runs): that snapshot is this one, already stored.
        const unchanged = last[0]?.snapshot_hash === hash;
        if (last[0]) {
          const previousRun = runOf(last[0]);
          const snapshot = unchanged ? input.snapshot : await snapshotIn(tx, input.coverageId, previousRun.snapshotHash);
          if (snapshot) context.previous = { run: previousRun, snapshot };
        }
        const decision = decide(context);
        if (!unchanged) {
          await tx.run('INSERT INTO coverage_snapshots (coverage_id, hash, payload, scores) VALUES (?, ?, ?, ?) ON CONFLICT (coverage_id, hash) DO NOTHING', [
            input.coverageId,
            hash,
            compressSnapshot(text ?? snapshotKey(input.snapshot).text),
            JSON.stringify(techniqueScoresOf(input.snapshot)),
          ]);
        }
        const run = await insertRun(tx, input, {
          backend: input.snapshot.backend,
          detection: input.snapshot.overall.DETECTION ?? null,
          prevention: input.snapshot.overall.PREVENTION ?? null,
          techniques: input.snapshot.techniques.length,
          tested: testedCount(input.snapshot),
          snapshotHash: hash,
          changes: decision.changes,
        });
        await tx.run('UPDATE coverage_history_state SET open_regressions = ?, updated_at = ? WHERE coverage_id = ?', [JSON.stringify(decision.open), clock().getTime(), input.coverageId]);
        const pruned = await trim(tx, input.coverageId);
        setBounded(appendedLast, input.coverageId, { hash, snapshot: input.snapshot }, REMEMBERED_SNAPSHOTS);
        return { run, state: { open: decision.open, markedNote: state.markedNote }, pruned };
      });
    },

    appendSettled(input) {
      return dialect.transaction(input.coverageId, async (tx) => {
        const { state, last } = await latestOf(tx, input.coverageId);
        // Another run (here or on another replica) stored other content since, or a regression is open
        // (its recovery is judged on the full comparison): the caller appends the full run.
        if (!last[0] || last[0].snapshot_hash !== input.snapshotHash || state.open.length > 0) return undefined;
        const previous = runOf(last[0]);
        const run = await insertRun(tx, input, {
          backend: previous.backend,
          detection: previous.detection ?? null,
          prevention: previous.prevention ?? null,
          techniques: previous.techniques,
          tested: previous.tested,
          snapshotHash: input.snapshotHash,
          changes: noChanges(),
        });
        const pruned = await trim(tx, input.coverageId);
        return { run, state, pruned };
      });
    },

    async setMarkedNote(coverageId, note) {
      await exec.run('UPDATE coverage_history_state SET marked_note = ?, updated_at = ? WHERE coverage_id = ?', [note, clock().getTime(), coverageId]);
    },

    async runs(coverageId, opts = {}) {
      const id = await resolve(coverageId);
      const limit = Math.max(1, Math.floor(opts.limit ?? keep));
      const rows = await exec.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM coverage_runs WHERE coverage_id = ? ORDER BY run_at DESC, id DESC LIMIT ?`, [id, limit]);
      return rows.map(runOf);
    },

    async snapshot(coverageId, hash) {
      return snapshotIn(exec, await resolve(coverageId), hash);
    },

    async techniqueScores(coverageId, hashes) {
      const id = await resolve(coverageId);
      const out = new Map<string, TechniqueScores>();
      const unique = [...new Set(hashes)];
      // Chunks keep the statement under both databases' bound-parameter limits.
      for (let i = 0; i < unique.length; i += 500) {
        const chunk = unique.slice(i, i + 500);
        const rows = await exec.all<{ hash: string; scores: string }>(`SELECT hash, scores FROM coverage_snapshots WHERE coverage_id = ? AND hash IN (${chunk.map(() => '?').join(', ')})`, [id, ...chunk]);
        for (const row of rows) out.set(row.hash, JSON.parse(row.scores) as TechniqueScores);
      }
      return out;
    },

    async state(coverageId) {
      const rows = await exec.all<{ open_regressions: string; marked_note: string | null }>(
        'SELECT open_regressions, marked_note FROM coverage_history_state WHERE coverage_id = ?',
        [await resolve(coverageId)],
      );
      return stateOf(rows[0]);
    },

    async coverages(opts = {}) {
      const rows = await exec.all<RunRow & { runs: number | string; open_regressions: string | null }>(
        `SELECT r.id, r.coverage_id, r.coverage_internal_id, r.coverage_name, r.run_at, r.outcome, r.backend, r.detection, r.prevention, r.techniques, r.tested, r.snapshot_hash, r.changes,
                c.runs, s.open_regressions
           FROM (SELECT coverage_id, COUNT(*) AS runs, MAX(id) AS last_id FROM coverage_runs GROUP BY coverage_id) c
           JOIN coverage_runs r ON r.id = c.last_id
           LEFT JOIN coverage_history_state s ON s.coverage_id = c.coverage_id
          ORDER BY r.run_at DESC, r.id DESC
          LIMIT ?`,
        [Math.max(1, Math.floor(opts.limit ?? 1000))],
      );
      return rows.map((row): CoverageSummary => {
        const run = runOf(row);
        return {
          coverageId: run.coverageId,
          ...(run.coverageInternalId ? { coverageInternalId: run.coverageInternalId } : {}),
          ...(run.coverageName ? { coverageName: run.coverageName } : {}),
          runs: Number(row.runs),
          lastRunAt: run.runAt,
          ...(run.detection !== undefined ? { detection: run.detection } : {}),
          ...(run.prevention !== undefined ? { prevention: run.prevention } : {}),
          openRegressions: row.open_regressions ? (JSON.parse(row.open_regressions) as unknown[]).length : 0,
        };
      });
    },

    async regressedCount() {
      const rows = await exec.all<{ n: number | string }>("SELECT COUNT(*) AS n FROM coverage_history_state WHERE open_regressions <> '[]'");
      return Number(rows[0]?.n ?? 0);
    },

    async pruneBefore(before) {
      const removed = await exec.run('DELETE FROM coverage_runs WHERE run_at < ?', [before.getTime()]);
      if (removed > 0) {
        await exec.run('DELETE FROM coverage_snapshots WHERE NOT EXISTS (SELECT 1 FROM coverage_runs r WHERE r.coverage_id = coverage_snapshots.coverage_id AND r.snapshot_hash = coverage_snapshots.hash)');
        await exec.run('DELETE FROM coverage_history_state WHERE marked_note IS NULL AND NOT EXISTS (SELECT 1 FROM coverage_runs r WHERE r.coverage_id = coverage_history_state.coverage_id)');
      }
      return removed;
    },

    close: () => dialect.close(),
  };
}
