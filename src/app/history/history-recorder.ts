import type { RegressionMarker } from '../../adapters/opencti/regression-api';
import { causeText, recoveryText, regressionNote, regressionText } from '../../domain/history/describe';
import type { AppendResult, HistoryStore } from '../../domain/history/history-ports';
import { compareRuns } from '../../domain/history/regression';
import { snapshotOf } from '../../domain/history/snapshot';
import { errorMessageOf } from '../../errors';
import type { HistoryMetrics } from './history-metrics';
import type { Logger } from '../logger';
import type { CoverageRunRecord, RunRecorder } from '../run-record';

/**
 * The daemon's RunRecorder (docs/history.md): after each run, appends the run to the history store
 * (regression detection happens inside the store's per-coverage transaction, so replicas never
 * disagree), logs each regression as a warning with its cause, counts it, and brings the coverage's
 * mark in OpenCTI in line with the open regressions. The mark is written only when the wanted note
 * differs from the one last written, i.e. on a state transition: the enrichment that a label change
 * re-triggers finds nothing to write and the chain ends there.
 */

export interface HistoryRecorderDeps {
  store: HistoryStore;
  log: Logger;
  threshold: number;
  /** Runs older than this are pruned (at most once an hour, from a record call). */
  retentionDays: number;
  /** Absent: regressions are not marked in OpenCTI (HISTORY_MARK_IN_OPENCTI=false). */
  marker?: RegressionMarker;
  label: string;
  metrics?: HistoryMetrics;
  clock?: () => Date;
}

export interface HistoryRecorder extends RunRecorder {
  /** Waits for a prune in progress; does not close the store (its owner does). */
  flush(): Promise<void>;
}

const PRUNE_EVERY_MS = 3600_000;
const GAUGE_EVERY_MS = 60_000;

export function createHistoryRecorder(deps: HistoryRecorderDeps): HistoryRecorder {
  const { store, log, threshold, marker, metrics } = deps;
  const clock = deps.clock ?? (() => new Date());
  let lastPrune = 0;
  let lastGauge = 0;
  let pruning: Promise<void> = Promise.resolve();

  function maybePrune(): void {
    const now = clock().getTime();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    pruning = store
      .pruneBefore(new Date(now - deps.retentionDays * 86400_000))
      .then((removed) => {
        if (removed > 0) log.info({ removed, retention_days: deps.retentionDays }, 'score history: old runs pruned');
      })
      .catch((err: unknown) => log.warn({ err: { message: errorMessageOf(err) } }, 'score history: pruning failed; retried in an hour'));
  }

  async function syncMark(run: Pick<CoverageRunRecord, 'coverageId' | 'coverageInternalId'>, open: Parameters<typeof regressionNote>[0], marked: string | null): Promise<void> {
    if (!marker) return;
    const wanted = open.length > 0 ? regressionNote(open, threshold, deps.label) : null;
    if ((wanted?.content ?? null) === marked) return;
    const target = run.coverageInternalId ?? run.coverageId;
    try {
      const { found, actions } = await marker.sync(target, wanted);
      await store.setMarkedNote(run.coverageId, wanted?.content ?? null);
      if (!found) log.info({ coverage_id: run.coverageId }, 'regression mark not written: the platform no longer has the coverage');
      else if (actions.length > 0) log.info({ coverage_id: run.coverageId, actions, label: deps.label }, wanted ? 'coverage marked as regressed in OpenCTI' : 'regression mark removed from the coverage in OpenCTI');
    } catch (err) {
      // Left as it was in the store: the next run of this coverage tries again.
      log.warn({ coverage_id: run.coverageId, err: { message: errorMessageOf(err) } }, 'regression mark not written to OpenCTI; retried at the next run of this coverage');
    }
  }

  /** Logs and counts what an appended run changed, refreshes the gauge, and brings the mark in line. */
  async function afterAppend(run: Pick<CoverageRunRecord, 'coverageId' | 'coverageInternalId'>, appended: AppendResult): Promise<void> {
    const { changes } = appended.run;
    const who = { coverage_id: run.coverageId, coverage_name: appended.run.coverageName ?? null };
    for (const r of changes.regressions) {
      metrics?.regression(r);
      log.warn(
        { ...who, technique: r.techniqueId ?? null, score: r.score, from: r.from, to: r.to ?? null, cause: causeText(r.causes, 5, r.techniqueId), causes: r.causes.map((c) => c.kind), threshold },
        `coverage regression: ${regressionText(r)}`,
      );
    }
    for (const r of changes.recoveries) {
      metrics?.recovery(r);
      log.info({ ...who, technique: r.techniqueId ?? null, score: r.score, from: r.from, to: r.to ?? null, since: r.since, reason: r.reason }, `coverage recovered: ${recoveryText(r)}`);
    }
    // From the store, so replicas agree: at once after a transition here, else at most once a minute
    // (another replica's transitions show up within that).
    const now = clock().getTime();
    if (metrics && (changes.regressions.length > 0 || changes.recoveries.length > 0 || now - lastGauge >= GAUGE_EVERY_MS)) {
      lastGauge = now;
      metrics.regressedCoverages(await store.regressedCount());
    }
    await syncMark(run, appended.state.open, appended.state.markedNote);
    maybePrune();
  }

  /** A store write whose failure the metrics count (the caller still sees it). */
  async function counted<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      metrics?.recordFailed();
      throw err;
    }
  }

  const isDraftRun = (run: Pick<CoverageRunRecord, 'coverageId' | 'draftId'>): boolean => {
    if (run.draftId) log.debug({ coverage_id: run.coverageId, draft_id: run.draftId }, 'score history: a run inside a draft is not history of the live coverage');
    return !!run.draftId;
  };

  return {
    async record(run) {
      if (isDraftRun(run)) return undefined;
      const snapshot = snapshotOf(run.result);
      const appended = await counted(() =>
        store.append(
          {
            coverageId: run.coverageId,
            ...(run.coverageInternalId ? { coverageInternalId: run.coverageInternalId } : {}),
            ...(run.coverageName ?? run.request.coverageName ? { coverageName: run.coverageName ?? run.request.coverageName } : {}),
            runAt: run.runAt,
            outcome: run.outcome,
            snapshot,
          },
          ({ previous, state }) => compareRuns({ ...(previous ? { previous: previous.snapshot } : {}), current: snapshot, open: state.open, threshold, runAt: run.runAt.toISOString() }),
        ),
      );
      await afterAppend(run, appended);
      return appended.run.snapshotHash;
    },
    async recordSettled(run) {
      if (isDraftRun(run)) return true;
      if (!store.appendSettled) return false;
      const appendSettled = store.appendSettled.bind(store);
      const appended = await counted(() =>
        appendSettled({
          coverageId: run.coverageId,
          ...(run.coverageInternalId ? { coverageInternalId: run.coverageInternalId } : {}),
          ...(run.coverageName ? { coverageName: run.coverageName } : {}),
          runAt: run.runAt,
          outcome: run.outcome,
          snapshotHash: run.snapshotHash,
        }),
      );
      if (!appended) return false;
      await afterAppend(run, appended);
      return true;
    },
    flush: () => pruning,
  };
}
