import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createScheduleCache } from '../../src/adapters/store/schedule-cache';
import { createLogger } from '../../src/app/logger';
import { createScheduler, type Scheduler } from '../../src/app/scheduler';
import { schedulePolicyFrom } from '../../src/domain/schedule/schedule-plan';
import type { CoverageSource, LeaderLock, RunTrigger } from '../../src/domain/schedule/schedule-ports';
import type { CoverageScheduleInput } from '../../src/domain/schedule/schedule-types';
import { figure, type Figure, type SuiteOptions } from '../lib/figures';
import { generateScheduleInputs } from '../lib/generate-schedule';
import { memorySample, nowMs, percentile, round } from '../lib/measure';

/**
 * B6 — the real scheduler (src/app/scheduler.ts) over 100,000 generated coverages fed through its
 * ports: an in-memory platform (pages of 500, like the platform's cap), a trigger that records the
 * run, a lock that is always leader, a fake clock advancing one minute per tick, and the real
 * schedule cache (scheduler.state_file) on disk. The worker's run reports are fed back after each tick.
 */

const MINUTE = 60_000;
const T0 = new Date('2026-03-01T00:00:00Z');

function memoryPlatform(items: CoverageScheduleInput[], pageSize: number): CoverageSource & RunTrigger & { complete(ids: string[], at: Date): CoverageScheduleInput[] } {
  const byKey = new Map<string, CoverageScheduleInput>();
  for (const i of items) {
    byKey.set(i.id, i);
    byKey.set(i.standardId, i);
  }
  return {
    async listPage(after) {
      const start = after ? Number(after) : 0;
      const slice = items.slice(start, start + pageSize).map((i) => ({ ...i }));
      return start + pageSize < items.length ? { items: slice, next: String(start + pageSize) } : { items: slice };
    },
    async get(id) {
      const i = byKey.get(id);
      return i ? { ...i } : undefined;
    },
    async trigger(coverage) {
      const stored = byKey.get(coverage.standardId);
      return { workId: `work_${coverage.id}` };
    },
    complete(ids, at) {
      return ids.flatMap((id) => {
        const stored = byKey.get(id);
        if (!stored) return [];
        stored.lastTriggeredAt = at;
        stored.lastResultAt = at;
        return [stored];
      });
    },
  };
}

const alwaysLeader: LeaderLock = {
  start: async () => undefined,
  isLeader: () => true,
  onLeadershipChange: () => () => undefined,
  send: async () => undefined,
  onMessage: () => () => undefined,
  close: async () => undefined,
};

/** pino at info level, formatting every line like production, written nowhere. */
const nullLogger = () => createLogger('info', new Writable({ write: (_c, _e, cb) => cb() }) as unknown as Parameters<typeof createLogger>[1]);

interface TickFigures {
  firstTickMs: number;
  ticksMs: number[];
  reconcileTicksMs: number[];
  started: number;
}

async function driveTicks(scheduler: Scheduler, platform: ReturnType<typeof memoryPlatform>, ticks: number): Promise<TickFigures> {
  let now = T0;
  let t = nowMs();
  let r = await scheduler.tick(now);
  const firstTickMs = nowMs() - t;
  let started = r.started.length;
  const ticksMs: number[] = [];
  const reconcileTicksMs: number[] = [];
  for (let k = 1; k <= ticks; k += 1) {
    // The worker finishes the runs of the previous tick and reports them (not timed: it is the worker's work).
    for (const done of platform.complete(r.started.map((s) => s.standardId), now)) {
      await scheduler.recordRun({ standardId: done.standardId, id: done.id, ranAt: now, periodicity: done.periodicity, duration: done.duration, createdAt: done.createdAt });
    }
    now = new Date(T0.getTime() + k * MINUTE);
    t = nowMs();
    r = await scheduler.tick(now);
    const ms = nowMs() - t;
    (r.reconciled ? reconcileTicksMs : ticksMs).push(ms);
    started += r.started.length;
  }
  return { firstTickMs, ticksMs, reconcileTicksMs, started };
}

export async function runB6(options: SuiteOptions): Promise<Figure[]> {
  const count = options.quick ? 20_000 : 100_000;
  const ticks = options.quick ? 20 : 90;
  const policyResult = schedulePolicyFrom({
    default_periodicity: 'P1D', default_duration: 'P30D', min_periodicity: 'PT1M', max_duration: 'P5Y',
    timezone: 'UTC', first_run_grace: 'PT10M', run_timeout: 'PT1H',
  });
  if (!policyResult.ok) throw new Error('bench schedule policy rejected');
  const baseline = memorySample();
  const items = generateScheduleInputs(options.seed, count, T0);
  const platform = memoryPlatform(items, 500);
  // The in-memory platform is bench scaffolding (the real one is remote): its memory is not the scheduler's.
  const fakePlatformMb = round(memorySample().rssMb - baseline.rssMb);
  const cache = createScheduleCache(join(options.tmpDir, 'schedule.json'));
  const scheduler = createScheduler({
    source: platform, trigger: platform, lock: alwaysLeader, clock: { now: () => T0 }, policy: policyResult.policy,
    logger: nullLogger(), cache, maxRunsPerTick: 100,
  });
  await scheduler.start();
  const withCache = await driveTicks(scheduler, platform, ticks);
  const after = memorySample();
  await scheduler.close();

  // Same ticks without the state file, to separate the cache's cost from the scheduling's.
  const platform2 = memoryPlatform(generateScheduleInputs(options.seed, count, T0), 500);
  const bare = createScheduler({ source: platform2, trigger: platform2, lock: alwaysLeader, clock: { now: () => T0 }, policy: policyResult.policy, logger: nullLogger(), maxRunsPerTick: 100 });
  await bare.start();
  const noCache = await driveTicks(bare, platform2, Math.min(ticks, 30));
  await bare.close();

  const tickMax = Math.max(...withCache.ticksMs);
  const rssConnector = round(after.rssMb - fakePlatformMb);
  options.log(`B6: ${count} coverages, first tick (reconcile) ${round(withCache.firstTickMs)} ms, ${withCache.ticksMs.length} ticks, ${withCache.started} runs started`);
  return [
    figure(
      'B6',
      'tick_max_ms',
      {
        tick_max_ms: round(tickMax),
        tick_p50_ms: round(percentile(withCache.ticksMs, 50)),
        rss_mb: rssConnector,
        rss_process_mb: after.rssMb,
        rss_fake_platform_mb: fakePlatformMb,
        rss_node_baseline_mb: baseline.rssMb,
        heap_mb: after.heapUsedMb,
        reconcile_tick_ms: round(Math.max(withCache.firstTickMs, ...withCache.reconcileTicksMs)),
        tick_max_ms_no_state_file: round(Math.max(...noCache.ticksMs)),
        coverages: count,
        ticks: withCache.ticksMs.length,
        runs_started: withCache.started,
      },
      tickMax <= 200 && rssConnector <= 250,
      'tick = one leader pass at a steady state (≤ 100 runs started, state_file written); reconcile_tick = the first tick (full paginated read of every coverage); rss = process RSS minus the in-memory fake platform holding the 100,000 coverages (rss_fake_platform_mb)',
    ),
  ];
}
