import { Counter, Gauge, type Registry } from 'prom-client';
import type { OpenRegression, Recovery } from '../../domain/history/history-types';
import { METRIC_PREFIX } from '../metrics';

/**
 * Prometheus series of the score history (docs/history.md), registered on the daemon's registry:
 * regressions and recoveries by scope, score and main cause (bounded label sets), coverages that are
 * regressed now (read from the shared store, so every replica reports the same number) and failures
 * to record a run.
 */

export interface HistoryMetrics {
  regression(r: OpenRegression): void;
  recovery(r: Recovery): void;
  regressedCoverages(count: number): void;
  recordFailed(): void;
}

export function createHistoryMetrics(registry: Registry): HistoryMetrics {
  const p = METRIC_PREFIX;
  const registers = [registry];
  const regressions = new Counter({
    name: `${p}regressions_total`,
    help: 'Score regressions detected (a drop of at least history.regression_threshold), by scope (technique, coverage), score and main cause',
    labelNames: ['scope', 'score', 'cause'] as const,
    registers,
  });
  const recoveries = new Counter({
    name: `${p}recoveries_total`,
    help: 'Score regressions that ended, by scope, score and reason (recovered, technique-removed)',
    labelNames: ['scope', 'score', 'reason'] as const,
    registers,
  });
  const regressed = new Gauge({ name: `${p}coverages_in_regression`, help: 'Coverages with at least one open regression (from the history store)', registers });
  const failures = new Counter({ name: `${p}history_record_failures_total`, help: 'Runs whose score history could not be recorded', registers });
  return {
    regression: (r) => regressions.inc({ scope: r.techniqueId ? 'technique' : 'coverage', score: r.score, cause: r.causes[0]?.kind ?? 'unexplained' }),
    recovery: (r) => recoveries.inc({ scope: r.techniqueId ? 'technique' : 'coverage', score: r.score, reason: r.reason }),
    regressedCoverages: (count) => regressed.set(count),
    recordFailed: () => failures.inc(),
  };
}
