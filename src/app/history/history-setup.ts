import type { Registry } from 'prom-client';
import type { Config } from '../../../schemas/config';
import { openHistoryStore } from '../../adapters/history';
import type { GraphQLClient } from '../../adapters/opencti/graphql-client';
import { createRegressionApi } from '../../adapters/opencti/regression-api';
import type { HistoryStore } from '../../domain/history/history-ports';
import { errorMessageOf } from '../../errors';
import { createHistoryMetrics } from './history-metrics';
import { createHistoryRecorder, type HistoryRecorder } from './history-recorder';
import type { Logger } from '../logger';

/** Builds the score history from config: the store, and for the daemon the RunRecorder around it. */

export function historyStoreOf(config: Readonly<Config>, clock?: () => Date): HistoryStore {
  return openHistoryStore({
    ...(config.history.url ? { url: config.history.url } : {}),
    sqlitePath: config.history.sqlite_path,
    maxRunsPerCoverage: config.history.max_runs_per_coverage,
    ...(clock ? { clock } : {}),
  });
}

export interface DaemonHistory {
  store: HistoryStore;
  recorder: HistoryRecorder;
  close(): Promise<void>;
}

export interface DaemonHistoryDeps {
  log: Logger;
  /** The platform client: regressions are marked on the coverage through it (absent: not marked). */
  gql?: GraphQLClient;
  /** The daemon's metrics registry (absent: no history metrics). */
  registry?: Registry;
  clock?: () => Date;
}

/** undefined when HISTORY_ENABLED=false. A bad HISTORY_URL / HISTORY_SQLITE_PATH throws a ConfigError. */
export async function startDaemonHistory(config: Readonly<Config>, deps: DaemonHistoryDeps): Promise<DaemonHistory | undefined> {
  const { log } = deps;
  if (!config.history.enabled) {
    log.info('HISTORY_ENABLED=false: run results are not kept and regressions are not detected');
    return undefined;
  }
  const store = historyStoreOf(config, deps.clock);
  const metrics = deps.registry ? createHistoryMetrics(deps.registry) : undefined;
  const marker = config.history.mark_in_opencti && deps.gql ? createRegressionApi({ gql: deps.gql, label: config.history.regression_label }) : undefined;
  const recorder = createHistoryRecorder({
    store,
    log,
    threshold: config.history.regression_threshold,
    retentionDays: config.history.retention_days,
    label: config.history.regression_label,
    ...(marker ? { marker } : {}),
    ...(metrics ? { metrics } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  try {
    // Also proves the store answers; a shared database that is down only delays history, never the daemon.
    metrics?.regressedCoverages(await store.regressedCount());
  } catch (err) {
    log.warn({ store: store.description, err: { message: errorMessageOf(err) } }, 'score history store not reachable at start; runs are recorded once it answers');
  }
  log.info(
    { store: store.description, threshold: config.history.regression_threshold, retention_days: config.history.retention_days, max_runs_per_coverage: config.history.max_runs_per_coverage, mark_in_opencti: !!marker },
    'score history enabled',
  );
  return {
    store,
    recorder,
    close: async () => {
      await recorder.flush();
      await store.close();
    },
  };
}
