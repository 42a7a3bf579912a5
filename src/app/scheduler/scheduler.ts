import { schedule as scheduleCron } from 'node-cron';
import type { Logger } from '../logger';
import type { JobObserver } from '../job-observer';
import { errorCodeOf, errorMessageOf } from '../../errors';
import { createDueIndex } from '../../domain/schedule/due-index';
import { ShardedMap } from '../../domain/sharded-map';
import { planCoverage, planTimes, type PlanTimes } from '../../domain/schedule/schedule-plan';
import type { CoverageScheduleInput, SchedulePlan, SchedulePolicy } from '../../domain/schedule/schedule-types';
import type { Clock, CoverageSource, LeaderLock, RunReport, RunTrigger, ScheduleCache } from '../../domain/schedule/schedule-ports';
import { runReportFromMessage, runReportMessage } from './scheduler-codec';
import { ScheduleEntry as Entry, type EntrySource } from './scheduler-entry';

/** Shortest clock time between two schedule-cache writes from ticks. */
const CACHE_SAVE_EVERY_MS = 10 * 60 * 1000;

/**
 * Periodic re-assessment of coverages. The platform is the source of truth (periodicity, duration,
 * created_at, coverage_last_result, our latest work on the coverage); this keeps a due index (min-heap)
 * in memory so a tick only touches what is due, reconciles it with a paginated scan on becoming leader
 * and every `reconcileEveryMs`, and learns about every enrichment from the worker (`recordRun`).
 * Only the leader (LeaderLock) starts runs; right before a run the coverage is re-read, so a run
 * already started or finished by anyone (another replica, a manual re-trigger) is never doubled.
 */

export const systemClock: Clock = { now: () => new Date() };

export interface SchedulerDeps {
  source: CoverageSource;
  trigger: RunTrigger;
  lock: LeaderLock;
  clock: Clock;
  policy: SchedulePolicy;
  logger: Logger;
  cache?: ScheduleCache;
  observer?: JobObserver;
  /** Full paginated reconciliation period (default 1 hour). */
  reconcileEveryMs?: number;
  /** Runs started per tick at most; the rest stay due for the next tick (default 100). */
  maxRunsPerTick?: number;
  /** Delay before a coverage whose run could not be started is tried again (default 5 minutes). */
  retryDelayMs?: number;
}

export interface TickResult {
  leader: boolean;
  /** True when another tick was still running (ticks never overlap). */
  busy?: boolean;
  reconciled: boolean;
  due: number;
  started: Array<{ standardId: string; workId?: string }>;
  /** Due in the index but not run after re-reading the platform (ran since, in flight, finished, deleted). */
  skipped: Array<{ standardId: string; reason: string }>;
  failed: Array<{ standardId: string; code: string; message: string }>;
}

export interface ReconcileResult {
  pages: number;
  coverages: number;
  removed: number;
}

export interface Scheduler {
  start(): Promise<void>;
  /** One scheduling pass at `now` (node-cron calls it; tests call it with a fake clock). */
  tick(now?: Date): Promise<TickResult>;
  /** Full paginated re-read of every coverage from the platform. */
  reconcile(now?: Date): Promise<ReconcileResult>;
  /** The worker processed an enrichment of this coverage (any trigger). Forwarded to the leader when we are not it. */
  recordRun(report: RunReport): Promise<void>;
  /** Current plan of every known coverage. */
  plans(now?: Date): SchedulePlan[];
  isLeader(): boolean;
  close(): Promise<void>;
}


const HOUR = 3600_000;

/** Coverages planned between two turns of the event loop (~1 µs each in UTC, up to ~80 µs in a zone with DST: under 20 ms). */
const PLAN_CHUNK = 200;
/** Coverages checked for removal between two turns of the event loop (a 1,000,000-entry sweep stalled it). */
const SWEEP_CHUNK = 5000;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));



export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { source, trigger, lock, clock, policy, cache, observer } = deps;
  const log = deps.logger.child({ component: 'scheduler' });
  const reconcileEveryMs = deps.reconcileEveryMs ?? HOUR;
  const maxRunsPerTick = deps.maxRunsPerTick ?? 100;
  const retryDelayMs = deps.retryDelayMs ?? 5 * 60_000;

  const entries = new ShardedMap<Entry>();
  const index = createDueIndex();
  let lastReconcileAt: number | undefined;
  let ticking: Promise<TickResult> | undefined;
  let dirty = false;
  let closed = false;
  const unsubscribe: Array<() => void> = [];

  /** Recomputes the plan of one coverage and its place in the due index. */
  function replan(entry: Entry, now: Date): PlanTimes {
    const plan = planTimes(entry, policy, now.getTime());
    if (plan.nextRunAt !== undefined) index.set(entry.standardId, new Date(plan.nextRunAt));
    else index.remove(entry.standardId);
    dirty = true;
    return plan;
  }

  /** Platform data wins for what users edit; dates only move forward (a report may be newer than a read). */
  function upsert(item: EntrySource, now: Date): Entry {
    const existing = entries.get(item.standardId);
    // Updated in place: a reconciliation then leaves no 100,000 replaced entries for the collector.
    const entry = existing ? existing.update(item, now.getTime()) : new Entry(item, now.getTime());
    entries.set(item.standardId, entry);
    replan(entry, now);
    return entry;
  }

  function remove(standardId: string): void {
    entries.delete(standardId);
    index.remove(standardId);
    dirty = true;
  }

  function applyReport(report: RunReport): void {
    const now = clock.now();
    const existing = entries.get(report.standardId)?.input;
    upsert(
      {
        id: report.id ?? existing?.id ?? report.standardId,
        standardId: report.standardId,
        name: report.name ?? existing?.name,
        createdAt: report.createdAt ?? existing?.createdAt ?? report.ranAt,
        periodicity: report.periodicity !== undefined ? report.periodicity : existing?.periodicity,
        duration: report.duration !== undefined ? report.duration : existing?.duration,
        lastResultAt: report.ranAt,
        lastTriggeredAt: existing?.lastTriggeredAt,
        manual: report.manual ?? existing?.manual,
      },
      now,
    );
  }

  let lastCacheSave = Number.NEGATIVE_INFINITY;
  async function saveCache(): Promise<void> {
    if (!cache || !dirty) return;
    dirty = false;
    try {
      // The entries themselves, written as the save reaches them: no second copy of the schedule.
      await cache.save(entries.values());
    } catch (err) {
      log.warn({ err: errorMessageOf(err) }, 'could not write the schedule cache (it is only a cache; continuing)');
    }
  }

  async function reconcile(now: Date = clock.now()): Promise<ReconcileResult> {
    const startedAt = now.getTime();
    let after: string | undefined;
    let pages = 0;
    let coverages = 0;
    do {
      const page = await source.listPage(after);
      pages += 1;
      for (const item of page.items) {
        upsert(item, now);
        coverages += 1;
        // A page of 500 is ~15 ms of planning; a page from memory (tests, a cached source) would not yield at all.
        if (coverages % PLAN_CHUNK === 0) await nextTurn();
      }
      after = page.next;
    } while (after);
    let removed = 0;
    let seen = 0;
    for (const entry of entries.values()) {
      if (entry.seenAt < startedAt) {
        remove(entry.standardId);
        removed += 1;
      }
      if (++seen % SWEEP_CHUNK === 0) await nextTurn();
    }
    lastReconcileAt = startedAt;
    log.info({ pages, coverages, removed, indexed: index.size }, 'schedule reconciled with the platform');
    await saveCache();
    return { pages, coverages, removed };
  }

  /** Re-reads one due coverage and starts its run unless someone already did. */
  async function runOne(key: string, now: Date, result: TickResult): Promise<'ok' | 'stop'> {
    const entry = entries.get(key);
    if (!entry) return 'ok';
    let fresh: CoverageScheduleInput | undefined;
    try {
      fresh = await source.get(entry.id);
    } catch (err) {
      result.failed.push({ standardId: key, code: errorCodeOf(err), message: errorMessageOf(err) });
      index.set(key, new Date(now.getTime() + retryDelayMs));
      log.warn({ coverage: key, err: errorMessageOf(err) }, 'could not read a due coverage; will retry');
      return 'stop';
    }
    if (!fresh) {
      remove(key);
      result.skipped.push({ standardId: key, reason: 'deleted' });
      return 'ok';
    }
    const updated = upsert(fresh, now);
    const plan = planTimes(updated, policy, now.getTime());
    if (plan.status !== 'due') {
      const reason = plan.status === 'scheduled' ? 'ran-since' : plan.status;
      result.skipped.push({ standardId: key, reason });
      log.debug({ coverage: key, reason, next: plan.nextRunAt === undefined ? undefined : new Date(plan.nextRunAt) }, 'due coverage not run');
      return 'ok';
    }
    try {
      const { workId } = await trigger.trigger(updated.input);
      updated.lastTriggeredAt = now.getTime();
      replan(updated, now);
      result.started.push({ standardId: key, workId });
      log.info({ coverage: key, name: updated.name, work_id: workId, periodicity: plan.periodicity.iso }, 'scheduled run started');
      return 'ok';
    } catch (err) {
      result.failed.push({ standardId: key, code: errorCodeOf(err), message: errorMessageOf(err) });
      index.set(key, new Date(now.getTime() + retryDelayMs));
      log.warn({ coverage: key, code: errorCodeOf(err), err: errorMessageOf(err) }, 'could not start a scheduled run; will retry');
      return 'ok';
    }
  }

  async function doTick(now: Date): Promise<TickResult> {
    const result: TickResult = { leader: true, reconciled: false, due: 0, started: [], skipped: [], failed: [] };
    if (lastReconcileAt === undefined || now.getTime() - lastReconcileAt >= reconcileEveryMs) {
      try {
        await reconcile(now);
        result.reconciled = true;
      } catch (err) {
        // The due index (cache, reports) still works; each run re-reads its coverage first.
        log.warn({ code: errorCodeOf(err), err: errorMessageOf(err) }, 'reconciliation failed; using the current index');
      }
    }
    const keys = index.takeDue(now, maxRunsPerTick);
    result.due = keys.length;
    observer?.schedulerDue(keys.length);
    for (let i = 0; i < keys.length; i += 1) {
      if (closed || !lock.isLeader()) {
        // Lost the lock mid-tick: put the rest back untouched for whoever leads.
        for (const k of keys.slice(i)) index.set(k, now);
        break;
      }
      if ((await runOne(keys[i], now, result)) === 'stop') {
        for (const k of keys.slice(i + 1)) index.set(k, now);
        break;
      }
    }
    // Writing 100,000 entries is ~0.5 s of work (spread over turns): a tick saves at most every
    // CACHE_SAVE_EVERY_MS of clock time (reconcile and close always save), and never blocks on it.
    // Safe: the cache only warms a restart, and the leader re-reads each coverage before running it.
    if (now.getTime() - lastCacheSave >= CACHE_SAVE_EVERY_MS) {
      lastCacheSave = now.getTime();
      setImmediate(() => void saveCache());
    }
    return result;
  }

  function tick(now: Date = clock.now()): Promise<TickResult> {
    if (closed || !lock.isLeader()) {
      return Promise.resolve({ leader: false, reconciled: false, due: 0, started: [], skipped: [], failed: [] });
    }
    if (ticking) return ticking.then(() => ({ leader: true, busy: true, reconciled: false, due: 0, started: [], skipped: [], failed: [] }));
    ticking = doTick(now).finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  return {
    async start() {
      if (cache) {
        try {
          const now = clock.now();
          // Chunk by chunk, with a turn of the event loop between chunks.
          for await (const chunk of cache.load()) {
            for (const e of chunk) upsert(e, now);
            await nextTurn();
          }
          dirty = false;
          log.info({ coverages: entries.size }, 'schedule cache loaded');
        } catch (err) {
          log.warn({ err: errorMessageOf(err) }, 'schedule cache unreadable; starting from the platform alone');
        }
      }
      unsubscribe.push(
        lock.onLeadershipChange((leader) => {
          // New leader: re-read the platform before anything else (another replica may have run things).
          lastReconcileAt = undefined;
          log.info({ leader }, leader ? 'this replica now schedules coverages' : 'this replica no longer schedules');
          if (leader) {
            tick().catch((err: unknown) => log.error({ err: errorMessageOf(err) }, 'scheduler tick failed'));
          }
        }),
        lock.onMessage((message) => {
          const report = runReportFromMessage(message);
          if (report) applyReport(report);
        }),
      );
      await lock.start();
    },
    tick,
    reconcile,
    async recordRun(report) {
      applyReport(report);
      if (!lock.isLeader()) {
        try {
          await lock.send(runReportMessage(report));
        } catch (err) {
          // The leader still sees the run when it re-reads the coverage before its next run.
          log.debug({ coverage: report.standardId, err: errorMessageOf(err) }, 'could not forward a run report to the leader');
        }
      }
    },
    plans(now = clock.now()) {
      return [...entries.values()].map((e) => planCoverage(e.input, policy, now));
    },
    isLeader: () => lock.isLeader(),
    async close() {
      if (closed) return;
      closed = true;
      for (const off of unsubscribe.splice(0)) off();
      await ticking?.catch(() => undefined);
      try {
        await lock.close();
      } finally {
        await saveCache();
      }
    },
  };
}

/** node-cron only calls `tick(clock.now())`; all logic stays testable with a fake clock. */
export function startSchedulerCron(scheduler: Scheduler, expression: string, clock: Clock, logger: Logger, timezone?: string): { stop(): Promise<void> } {
  const task = scheduleCron(
    expression,
    async () => {
      try {
        const r = await scheduler.tick(clock.now());
        if (r.started.length || r.failed.length) {
          logger.info({ started: r.started.length, failed: r.failed.length, skipped: r.skipped.length }, 'scheduler tick');
        }
      } catch (err) {
        logger.error({ err: errorMessageOf(err) }, 'scheduler tick failed');
      }
    },
    {
      name: 'coverage-scheduler',
      noOverlap: true,
      timezone,
      // node-cron's own lines go to our log instead of coloured console.warn lines on stderr; a tick
      // skipped because the previous one is still running is expected (noOverlap), not a warning.
      logger: {
        info: (message) => logger.debug({ source: 'node-cron' }, message),
        warn: (message) => (/overlap prevention/.test(message) ? logger.debug({ source: 'node-cron' }, message) : logger.warn({ source: 'node-cron' }, message)),
        error: (message, err) => logger.error({ source: 'node-cron', err: errorMessageOf(err ?? message) }, String(message)),
        debug: (message) => logger.debug({ source: 'node-cron' }, String(message)),
      },
    },
  );
  return {
    stop: async () => {
      await task.stop();
      await task.destroy();
    },
  };
}
