import type { OpenRegression, RunChanges, RunSnapshot } from './history-types';

/**
 * The score-history store port. Adapters: src/adapters/history (embedded SQLite for one replica,
 * PostgreSQL shared by every replica). Runs of one coverage are appended one at a time across
 * replicas (the store serialises them), so two replicas never both open the same regression.
 */

/** One stored run, newest first when listed. */
export interface HistoryRun {
  id: number;
  coverageId: string;
  coverageInternalId?: string;
  coverageName?: string;
  /** ISO time of the run. */
  runAt: string;
  outcome: 'pushed' | 'unchanged';
  backend: string;
  detection?: number;
  prevention?: number;
  techniques: number;
  tested: number;
  /** Content hash of the run's snapshot (equal hashes: identical scores and evidence). */
  snapshotHash: string;
  changes: RunChanges;
}

/** Per coverage: the open regressions and what was last written to the platform about them. */
export interface CoverageHistoryState {
  open: OpenRegression[];
  /** Note content the platform carries for this coverage's regressions (null: no mark). */
  markedNote: string | null;
}

export interface AppendRun {
  coverageId: string;
  coverageInternalId?: string;
  coverageName?: string;
  runAt: Date;
  outcome: 'pushed' | 'unchanged';
  snapshot: RunSnapshot;
}

/**
 * A run whose content is known to be the coverage's latest snapshot (its hash), e.g. a re-run on
 * unchanged inputs: stored without the snapshot itself.
 */
export interface RepeatRun {
  coverageId: string;
  coverageInternalId?: string;
  coverageName?: string;
  runAt: Date;
  outcome: 'pushed' | 'unchanged';
  snapshotHash: string;
}

/** What the store hands to `decide`: the latest earlier run of the coverage and its state. */
export interface AppendContext {
  previous?: { run: HistoryRun; snapshot: RunSnapshot };
  state: CoverageHistoryState;
}

export interface AppendDecision {
  changes: RunChanges;
  open: OpenRegression[];
}

export interface AppendResult {
  run: HistoryRun;
  state: CoverageHistoryState;
  /** Runs removed by the per-coverage retention while appending. */
  pruned: number;
}

/** Per technique of one snapshot: [detection, prevention], null when not measured. */
export type TechniqueScores = Record<string, [number | null, number | null]>;

export interface CoverageSummary {
  coverageId: string;
  coverageInternalId?: string;
  coverageName?: string;
  runs: number;
  lastRunAt: string;
  detection?: number;
  prevention?: number;
  openRegressions: number;
}

export interface HistoryStore {
  /** Where the history lives, without credentials (for logs and `history` output). */
  readonly description: string;
  /**
   * Appends one run: reads the latest run and state of the coverage, calls `decide` (pure), stores
   * run, snapshot and new state in one transaction, then drops the coverage's runs beyond the retention.
   */
  append(run: AppendRun, decide: (context: AppendContext) => AppendDecision): Promise<AppendResult>;
  /**
   * Appends a run with the content of the coverage's latest run (no change, no regression) when that
   * run's snapshot has `snapshotHash` and no regression is open; otherwise stores nothing and gives
   * undefined (the caller appends the full run instead).
   */
  appendSettled?(run: RepeatRun): Promise<AppendResult | undefined>;
  /** Records what the platform now carries (after the mark was written or cleared). */
  setMarkedNote(coverageId: string, note: string | null): Promise<void>;
  /** Runs of a coverage (by standard or internal id), newest first. */
  runs(coverageId: string, options?: { limit?: number }): Promise<HistoryRun[]>;
  snapshot(coverageId: string, hash: string): Promise<RunSnapshot | undefined>;
  /** Technique scores of snapshots by hash, without reading their evidence (one technique across many runs). */
  techniqueScores(coverageId: string, hashes: string[]): Promise<Map<string, TechniqueScores>>;
  state(coverageId: string): Promise<CoverageHistoryState | undefined>;
  coverages(options?: { limit?: number }): Promise<CoverageSummary[]>;
  /** Coverages with at least one open regression (the gauge). */
  regressedCount(): Promise<number>;
  /** Removes runs older than `before`, snapshots no run uses any more and unmarked states of coverages without runs. */
  pruneBefore(before: Date): Promise<number>;
  close(): Promise<void>;
}
