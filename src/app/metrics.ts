import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobObserver, TechniqueCounts } from './job-observer';

/**
 * The daemon's Prometheus metrics (served on /metrics by src/app/http-server.ts). Each call builds its
 * own Registry — never prom-client's global one — so tests and several daemons in one process do not
 * share counters. `observer` is the JobObserver the worker and the scheduler report to.
 */

export const METRIC_PREFIX = 'coverage_connector_';

export interface MetricsSnapshot {
  received: number;
  succeeded: number;
  failed: number;
  deadLettered: number;
  inFlight: number;
  schedulerDue: number;
  /** Last job that ended in success (pushed, unchanged or skipped); null before the first. */
  lastSuccessAt: Date | null;
}

export interface Metrics {
  readonly registry: Registry;
  readonly observer: JobObserver;
  /** Prometheus text exposition format. */
  text(): Promise<string>;
  readonly contentType: string;
  snapshot(): MetricsSnapshot;
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export function createMetrics(options: { clock?: () => Date; collectDefault?: boolean; maxCoverages?: number } = {}): Metrics {
  const clock = options.clock ?? (() => new Date());
  const registry = new Registry();
  const registers = [registry];
  const p = METRIC_PREFIX;
  // Process metrics (CPU, memory, event-loop lag) help tell a stuck backend from a starved process.
  if (options.collectDefault) collectDefaultMetrics({ register: registry, prefix: p });

  const received = new Counter({ name: `${p}messages_received_total`, help: 'Enrichment messages taken from the listen queue', registers });
  const succeeded = new Counter({
    name: `${p}messages_succeeded_total`,
    help: 'Messages processed successfully, by outcome (pushed, unchanged, skipped)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const failed = new Counter({
    name: `${p}messages_failed_total`,
    help: 'Failed attempts, by error code and whether another attempt follows',
    labelNames: ['code', 'will_retry'] as const,
    registers,
  });
  const deadLettered = new Counter({ name: `${p}messages_dead_lettered_total`, help: 'Messages moved to the dead-letter queue, by error code', labelNames: ['code'] as const, registers });
  const runs = new Counter({ name: `${p}assessment_runs_total`, help: 'Assessments run, by backend', labelNames: ['backend'] as const, registers });
  const assessSeconds = new Histogram({
    name: `${p}assessment_duration_seconds`,
    help: 'Duration of one assessment, by backend',
    labelNames: ['backend'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const pushSeconds = new Histogram({ name: `${p}push_duration_seconds`, help: 'Duration of pushing one result bundle to the platform', buckets: DURATION_BUCKETS, registers });
  const lagSeconds = new Histogram({
    name: `${p}queue_lag_seconds`,
    help: 'Seconds between the publication of a message and the start of its processing',
    buckets: [0.1, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400],
    registers,
  });
  const lastLag = new Gauge({ name: `${p}queue_lag_last_seconds`, help: 'Queue lag of the last message processed', registers });
  const due = new Gauge({ name: `${p}scheduler_due`, help: 'Coverages due at the last scheduler tick', registers });
  const lastSuccess = new Gauge({ name: `${p}last_success_timestamp_seconds`, help: 'Unix time of the last successful job (0 = none yet)', registers });
  const inFlight = new Gauge({ name: `${p}jobs_in_flight`, help: 'Jobs being processed right now', registers });
  lastSuccess.set(0);
  inFlight.set(0);
  due.set(0);
  // Per coverage: bounded so a platform with many coverages cannot blow up the series count.
  const maxCoverages = options.maxCoverages ?? 1000;
  const coverageScore = new Gauge({
    name: `${p}coverage_score`,
    help: 'Latest score of a coverage (0-100), by coverage standard id and score type',
    labelNames: ['coverage_id', 'score'] as const,
    registers,
  });
  const coverageTechniques = new Gauge({
    name: `${p}coverage_techniques`,
    help: 'Techniques of a coverage by state: covered (detection >= 50), uncovered (tested, below 50), not_tested',
    labelNames: ['coverage_id', 'state'] as const,
    registers,
  });
  const coverageDropped = new Counter({
    name: `${p}coverage_metrics_dropped_total`,
    help: 'Coverage results not exported as gauges because HTTP_METRICS_MAX_COVERAGES coverages already are',
    registers,
  });
  const tracked = new Set<string>();

  // Plain mirrors for /status (reading prom-client values is async).
  const state: MetricsSnapshot = { received: 0, succeeded: 0, failed: 0, deadLettered: 0, inFlight: 0, schedulerDue: 0, lastSuccessAt: null };

  const observer: JobObserver = {
    received: () => {
      received.inc();
      state.received += 1;
    },
    succeeded: (outcome) => {
      succeeded.inc({ outcome });
      state.succeeded += 1;
      state.lastSuccessAt = clock();
      lastSuccess.set(state.lastSuccessAt.getTime() / 1000);
    },
    failed: (code, willRetry) => {
      failed.inc({ code, will_retry: String(willRetry) });
      state.failed += 1;
    },
    deadLettered: (code) => {
      deadLettered.inc({ code });
      state.deadLettered += 1;
    },
    assessed: (backend, seconds) => {
      runs.inc({ backend });
      assessSeconds.observe({ backend }, seconds);
    },
    pushed: (seconds) => pushSeconds.observe(seconds),
    lag: (seconds) => {
      lagSeconds.observe(seconds);
      lastLag.set(seconds);
    },
    schedulerDue: (count) => {
      due.set(count);
      state.schedulerDue = count;
    },
    inFlight: (count) => {
      inFlight.set(count);
      state.inFlight = count;
    },
    scored: (coverageId: string, overall: ReadonlyArray<{ name: string; score: number }>, techniques: TechniqueCounts) => {
      if (!tracked.has(coverageId)) {
        if (tracked.size >= maxCoverages) {
          coverageDropped.inc();
          return;
        }
        tracked.add(coverageId);
      }
      for (const s of overall) coverageScore.set({ coverage_id: coverageId, score: s.name.toLowerCase() }, s.score);
      coverageTechniques.set({ coverage_id: coverageId, state: 'covered' }, techniques.covered);
      coverageTechniques.set({ coverage_id: coverageId, state: 'uncovered' }, techniques.uncovered);
      coverageTechniques.set({ coverage_id: coverageId, state: 'not_tested' }, techniques.notTested);
    },
  };

  return {
    registry,
    observer,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    snapshot: () => ({ ...state }),
  };
}

/** One observer that forwards every call to each of `observers` (metrics + a test recorder, say). */
export function combineObservers(...observers: JobObserver[]): JobObserver {
  const keys: Array<keyof JobObserver> = ['received', 'succeeded', 'failed', 'deadLettered', 'assessed', 'pushed', 'lag', 'schedulerDue', 'inFlight', 'scored'];
  const out = {} as Record<keyof JobObserver, (...args: unknown[]) => void>;
  for (const k of keys) {
    out[k] = (...args: unknown[]) => {
      for (const o of observers) (o[k] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  }
  return out as unknown as JobObserver;
}

/**
 * Creation time embedded in a platform work id (`work_<connector id>_<ISO timestamp>`, protocol §3.2,
 * `generateWorkId`): the queue lag of platform messages, which carry no AMQP timestamp.
 */
export function workIdTime(workId: string): Date | undefined {
  const m = /_(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)(?:_|$)/.exec(workId);
  if (!m) return undefined;
  const d = new Date(m[1]);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
