import { validate as validateCron } from 'node-cron';
import { Duration } from 'luxon';
import type { Config } from '../../../schemas/config';
import { createLeaderLock } from '../../adapters/amqp/leader-lock';
import type { GraphQLClient } from '../../adapters/opencti/graphql-client';
import { createScheduleCache } from '../../adapters/store/schedule-cache';
import { schedulePolicyFrom } from '../../domain/schedule/schedule-plan';
import type { SchedulePolicy } from '../../domain/schedule/schedule-types';
import type { Clock, RunReport } from '../../domain/schedule/schedule-ports';
import type { EnrichmentMessage } from '../../../schemas/message';
import { ConfigError, errorMessageOf } from '../../errors';
import { envNameOf } from '../config';
import type { JobObserver } from '../job-observer';
import type { Logger } from '../logger';
import { createScheduler, startSchedulerCron, systemClock, type Scheduler } from './scheduler';
import { createAskEnrichmentTrigger, createPlatformCoverageSource, runReportOf } from './scheduler-platform';

/** Builds the scheduler of the daemon from the configuration (called by main.ts only). */

/** Validated `scheduler.*` settings; a bad value stops startup naming its environment variable. */
export function schedulePolicyOf(config: Readonly<Config>): SchedulePolicy {
  const s = config.scheduler;
  const result = schedulePolicyFrom({
    default_periodicity: s.default_periodicity,
    default_duration: s.default_duration,
    min_periodicity: s.min_periodicity,
    max_duration: s.max_duration,
    timezone: s.timezone,
    first_run_grace: s.first_run_grace,
    run_timeout: s.run_timeout,
  });
  if (!result.ok) {
    throw new ConfigError(result.errors.map((e) => `${envNameOf(['scheduler', e.key])}: ${e.reason}`).join('; '));
  }
  return result.policy;
}

function reconcileEveryMsOf(config: Readonly<Config>): number {
  const d = Duration.fromISO(config.scheduler.reconcile_interval.toUpperCase());
  if (!d.isValid || d.toMillis() < 60_000) {
    throw new ConfigError(`SCHEDULER_RECONCILE_INTERVAL: "${config.scheduler.reconcile_interval}" must be an ISO-8601 duration of at least PT1M`);
  }
  return d.toMillis();
}

/** Every scheduler setting checked at once, before anything connects (main.ts calls it at startup). */
export function assertSchedulerConfig(config: Readonly<Config>): void {
  if (!config.scheduler.enabled) return;
  schedulePolicyOf(config);
  reconcileEveryMsOf(config);
  if (!validateCron(config.scheduler.tick_cron)) {
    throw new ConfigError(`SCHEDULER_TICK_CRON: "${config.scheduler.tick_cron}" is not a cron expression (e.g. "* * * * *")`);
  }
}

export interface SchedulingOptions {
  config: Readonly<Config>;
  gql: Pick<GraphQLClient, 'request'>;
  /** AMQP URI of the broker (the same the listen queue is consumed from). */
  brokerUrl: string;
  log: Logger;
  observer?: JobObserver;
  clock?: Clock;
  /** false: no node-cron task (tests drive `scheduler.tick`). Default true. */
  cron?: boolean;
}

export interface Scheduling {
  scheduler: Scheduler;
  /** For the worker: "this coverage ran at `ranAt`" (any trigger: creation, edit, manual, scheduled). */
  recordEnrichment(message: EnrichmentMessage, ranAt: Date): void;
  recordRun(report: RunReport): void;
  close(): Promise<void>;
}

export async function startScheduling(options: SchedulingOptions): Promise<Scheduling> {
  const { config, log } = options;
  const connectorId = config.connector.id as string;
  assertSchedulerConfig(config);
  const policy = schedulePolicyOf(config);
  const reconcileEveryMs = reconcileEveryMsOf(config);
  const clock = options.clock ?? systemClock;
  const lock = createLeaderLock({
    url: options.brokerUrl,
    connectorId,
    heartbeatMs: config.scheduler.lock_heartbeat_seconds * 1000,
    sslVerify: config.mq.ssl_verify,
    ...(config.mq.ca_file ? { caFile: config.mq.ca_file } : {}),
    logger: log,
  });
  const stateFile = config.scheduler.state_file;
  const scheduler = createScheduler({
    source: createPlatformCoverageSource({ gql: options.gql, connectorId }),
    trigger: createAskEnrichmentTrigger({ gql: options.gql, connectorId }),
    lock,
    clock,
    policy,
    logger: log,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(stateFile
      ? {
          cache: createScheduleCache(stateFile, {
            onUnusable: (reason) => log.warn({ state_file: stateFile, reason }, 'schedule cache ignored'),
            onDamaged: (reason) => log.warn({ state_file: stateFile, reason }, 'schedule cache partly read'),
          }),
        }
      : {}),
    reconcileEveryMs,
    maxRunsPerTick: config.scheduler.max_runs_per_tick,
  });
  await scheduler.start();
  const cron = options.cron === false ? undefined : startSchedulerCron(scheduler, config.scheduler.tick_cron, clock, log);
  log.info({ tick: config.scheduler.tick_cron, lock_queue: lock.queue, zone: policy.zone }, 'scheduler started (one replica schedules at a time)');

  const recordRun = (report: RunReport): void => {
    scheduler.recordRun(report).catch((err: unknown) => log.warn({ err: errorMessageOf(err) }, 'could not record a run'));
  };
  let closing: Promise<void> | undefined;
  return {
    scheduler,
    recordRun,
    recordEnrichment: (message, ranAt) => recordRun(runReportOf(message, ranAt)),
    close() {
      closing ??= (async () => {
        try {
          await cron?.stop();
        } finally {
          await scheduler.close();
        }
      })();
      return closing;
    },
  };
}
