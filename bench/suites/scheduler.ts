import { statSync } from 'node:fs';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createScheduleCache } from '../../src/adapters/store/schedule-cache';
import { createLogger } from '../../src/app/logger';
import { createScheduler, type Scheduler } from '../../src/app/scheduler/scheduler';
import { schedulePolicyFrom } from '../../src/domain/schedule/schedule-plan';
import type { CoverageSource, LeaderLock, RunTrigger, ScheduleCache } from '../../src/domain/schedule/schedule-ports';
import type { CoverageScheduleInput } from '../../src/domain/schedule/schedule-types';
import { figure, type Figure, type FigureId, type SuiteOptions } from '../lib/figures';
import { generateScheduleInputs } from '../lib/generate-schedule';
import { memorySample, nowMs, percentile, round } from '../lib/measure';

/**
 * The real scheduler (src/app/scheduler/scheduler.ts) over 100,000 (and, in full runs, 1,000,000) generated
 * coverages fed through its ports: a platform in memory that answers on the next turn of the event
 * loop like a remote one (pages of 500, the platform's cap), a trigger that records the run, a lock
 * that is always leader, a fake clock advancing one minute per tick, and the real state file on disk.
 * An event-loop delay monitor (1 ms resolution) runs through everything the daemon would do: start,
 * first reconciliation, ticks with the worker's run reports fed back, the state saves (every 10 min
 * of clock time), close, and a restart from the state file.
 */

const MINUTE = 60_000;
const T0 = new Date('2026-03-01T00:00:00Z');

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Platform = CoverageSource & RunTrigger & { complete(ids: string[], at: Date): Promise<CoverageScheduleInput[]>; close(): void };

/** The platform's side, in its own process: the coverages and what the scheduler asks of them. */
function servePlatform(): void {
  const { seed, count } = JSON.parse(process.env.BENCH_SCHEDULE_PLATFORM ?? '{}') as { seed: number; count: number };
  const items = generateScheduleInputs(seed, count, T0);
  const byKey = new Map<string, CoverageScheduleInput>();
  for (const i of items) {
    byKey.set(i.id, i);
    byKey.set(i.standardId, i);
  }
  const answer: Record<string, (arg: never) => unknown> = {
    listPage: ({ after, size }: { after?: string; size: number }) => {
      const start = after ? Number(after) : 0;
      const slice = items.slice(start, start + size);
      return start + size < items.length ? { items: slice, next: String(start + size) } : { items: slice };
    },
    get: ({ id }: { id: string }) => byKey.get(id),
    trigger: ({ id }: { id: string }) => ({ workId: `work_${id}` }),
    complete: ({ ids, at }: { ids: string[]; at: string }) =>
      ids.flatMap((id) => {
        const stored = byKey.get(id);
        if (!stored) return [];
        stored.lastTriggeredAt = new Date(at);
        stored.lastResultAt = new Date(at);
        return [stored];
      }),
  };
  process.on('message', (m: { n: number; op: string; arg: never }) => process.send?.({ n: m.n, value: answer[m.op](m.arg) ?? null }));
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, rssMb: round(process.memoryUsage().rss / 1024 / 1024) });
}

const DATE_FIELDS = ['createdAt', 'lastResultAt', 'lastTriggeredAt'] as const;
const revive = (raw: Record<string, unknown> | null): CoverageScheduleInput | undefined => {
  if (!raw) return undefined;
  const item = { ...raw } as Record<string, unknown>;
  for (const k of DATE_FIELDS) if (typeof item[k] === 'string') item[k] = new Date(item[k] as string);
  return item as unknown as CoverageScheduleInput;
};

/**
 * A remote platform seen from the scheduler: every call is a message to the platform process, so
 * the coverages' memory is not in the scheduler's process and each answer arrives on a later turn of
 * the event loop, as over HTTP.
 */
async function remotePlatform(seed: number, count: number, pageSize: number): Promise<Platform> {
  const child = fork(__filename, [], { env: { ...process.env, BENCH_SCHEDULE_PLATFORM: JSON.stringify({ seed, count }) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map<number, (v: unknown) => void>();
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`schedule platform exited (${code})`)));
    child.on('message', (m: { ready?: boolean; n?: number; value?: unknown }) => {
      if (m.ready) resolve();
      else if (m.n !== undefined) {
        waiting.get(m.n)?.(m.value);
        waiting.delete(m.n);
      }
    });
  });
  const call = <T>(op: string, arg: unknown): Promise<T> =>
    new Promise((resolve) => {
      n += 1;
      waiting.set(n, resolve as (v: unknown) => void);
      child.send({ n, op, arg });
    });
  return {
    async listPage(after) {
      const page = await call<{ items: Array<Record<string, unknown>>; next?: string }>('listPage', { after, size: pageSize });
      return { items: page.items.map((i) => revive(i) as CoverageScheduleInput), ...(page.next ? { next: page.next } : {}) };
    },
    get: async (id) => revive(await call<Record<string, unknown> | null>('get', { id })),
    trigger: (coverage) => call<{ workId: string }>('trigger', { id: coverage.id }),
    complete: async (ids, at) => (await call<Array<Record<string, unknown>>>('complete', { ids, at: at.toISOString() })).map((i) => revive(i) as CoverageScheduleInput),
    close: () => {
      child.removeAllListeners('exit');
      child.kill();
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

function policy() {
  const result = schedulePolicyFrom({
    default_periodicity: 'P1D', default_duration: 'P30D', min_periodicity: 'PT1M', max_duration: 'P5Y',
    timezone: 'UTC', first_run_grace: 'PT10M', run_timeout: 'PT1H',
  });
  if (!result.ok) throw new Error('bench schedule policy rejected');
  return result.policy;
}

/** Times one state save on its own (the scheduler's saves happen inside the ticks). */
function timedCache(cache: ScheduleCache, saves: number[]): ScheduleCache {
  return {
    load: () => cache.load(),
    async save(entries) {
      const t = nowMs();
      await cache.save(entries);
      saves.push(nowMs() - t);
    },
  };
}

interface Run {
  startMs: number;
  reconcileMs: number;
  ticksMs: number[];
  started: number;
  closeMs: number;
}

async function drive(scheduler: Scheduler, platform: Platform, ticks: number, beforeClose: () => void = () => undefined): Promise<Run> {
  const g = globalThis as { phase?: string };
  g.phase = 'start';
  let t = nowMs();
  await scheduler.start();
  g.phase = 'reconcile';
  const startMs = nowMs() - t;
  let now = T0;
  t = nowMs();
  let r = await scheduler.tick(now);
  const reconcileMs = nowMs() - t;
  let started = r.started.length;
  const ticksMs: number[] = [];
  g.phase = 'ticks';
  for (let k = 1; k <= ticks; k += 1) {
    // The worker finishes the runs of the previous tick and reports them (the worker's work, not timed).
    for (const done of await platform.complete(r.started.map((s) => s.standardId), now)) {
      await scheduler.recordRun({ standardId: done.standardId, id: done.id, ranAt: now, periodicity: done.periodicity, duration: done.duration, createdAt: done.createdAt });
    }
    now = new Date(T0.getTime() + k * MINUTE);
    t = nowMs();
    r = await scheduler.tick(now);
    ticksMs.push(nowMs() - t);
    started += r.started.length;
    await nextTurn();
  }
  beforeClose();
  g.phase = 'close';
  t = nowMs();
  await scheduler.close();
  return { startMs, reconcileMs, ticksMs, started, closeMs: nowMs() - t };
}

const maxMs = (h: IntervalHistogram): number => round(h.max / 1e6, 1);

async function measure(id: FigureId, options: SuiteOptions, count: number, ticks: number, restartToo = true): Promise<Figure> {
  const platform = await remotePlatform(options.seed, count, 500);
  // The machine's own noise: the longest stall of an idle event loop over 3 s (other processes, the OS).
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  idle.disable();
  const file = join(options.tmpDir, `schedule-${count}.json`);
  const saves: number[] = [];
  const deps = { source: platform, trigger: platform, lock: alwaysLeader, clock: { now: () => T0 }, policy: policy(), logger: nullLogger(), maxRunsPerTick: 100 };

  // The process before any coverage is scheduled (modules loaded, platform process connected).
  const before = memorySample();
  const gcPauses: Array<{ at: number; ms: number }> = [];
  const gcWatch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push({ at: e.startTime, ms: e.duration });
  });
  gcWatch.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // Memory is sampled with the scheduler still holding every coverage, the monitors off: the forced
  // full GC of the sample is the bench's, not the scheduler's.
  // A monitor that is disabled and enabled again counts the time in between as one stall, so the
  // sample ends the first monitor and a new one takes over.
  let memory = { rssMb: 0, heapUsedMb: 0 };
  const sampling = [0, 0];
  let ticksBlock = 0;
  let after = loop;
  const first = await drive(createScheduler({ ...deps, cache: timedCache(createScheduleCache(file), saves) }), platform, ticks, () => {
    loop.disable();
    ticksBlock = maxMs(loop);
    sampling[0] = performance.now();
    memory = memorySample();
    sampling[1] = performance.now();
    after = monitorEventLoopDelay({ resolution: 1 });
    after.enable();
  });
  const firstBlock = Math.max(ticksBlock, maxMs(after));
  after.disable();
  const restartLoop = monitorEventLoopDelay({ resolution: 1 });
  restartLoop.enable();
  // A restart: the due index comes from the state file, then the leader reconciles.
  const restart = restartToo ? await drive(createScheduler({ ...deps, cache: timedCache(createScheduleCache(file), saves) }), platform, Math.min(ticks, 10)) : undefined;
  const restartBlock = restartToo ? maxMs(restartLoop) : 0;
  restartLoop.disable();
  platform.close();
  gcWatch.disconnect();
  const maxBlock = Math.max(firstBlock, restartBlock);
  const rss = memory.rssMb;
  options.log(`${id}: ${count} coverages, max block ${maxBlock} ms, RSS ${rss} MB, reconcile ${round(first.reconcileMs)} ms`);
  return figure(
    id,
    'max_block_ms',
    {
      max_block_ms: maxBlock,
      rss_mb: rss,
      max_block_first_run_ms: firstBlock,
      idle_loop_max_block_ms: maxMs(idle),
      gc_max_pause_ms: round(Math.max(0, ...gcPauses.filter((g) => g.at < sampling[0] || g.at > sampling[1]).map((g) => g.ms)), 1),
      max_block_restart_ms: restart ? restartBlock : null,
      tick_p50_ms: round(percentile(first.ticksMs, 50), 1),
      tick_max_ms: round(Math.max(...first.ticksMs), 1),
      reconcile_ms: round(first.reconcileMs),
      restart_load_ms: restart ? round(restart.startMs) : null,
      restart_reconcile_ms: restart ? round(restart.reconcileMs) : null,
      save_ms_max: round(Math.max(...saves)),
      saves: saves.length,
      state_file_mb: round(statSync(file).size / 1024 / 1024, 1),
      heap_mb: memory.heapUsedMb,
      rss_before_scheduler_mb: before.rssMb,
      heap_before_scheduler_mb: before.heapUsedMb,
      rss_after_restart_mb: memorySample().rssMb,
      coverages: count,
      ticks: first.ticksMs.length,
      runs_started: first.started,
    },
    id === 'scheduler' ? maxBlock <= 50 && rss <= 200 : null,
    `rss = RSS of the scheduler's process after the first run's ticks, every coverage still held (the platform and its coverages live in another process, as over HTTP; rss_before_scheduler_mb: the same process before); max_block = longest event-loop stall (monitorEventLoopDelay) over start, reconcile, ${first.ticksMs.length} ticks with ${saves.length} state saves (save_ms_max: one whole save, spread over turns), close${restartToo ? ', and a restart from the state file' : ''}; idle_loop_max_block_ms = the same monitor on an idle event loop for 3 s before (the machine's noise)`,
  );
}

export async function runScheduler(options: SuiteOptions): Promise<Figure[]> {
  return [await measure('scheduler', options, 100_000, options.quick ? 30 : 60)];
}

export async function runScheduler1M(options: SuiteOptions): Promise<Figure[]> {
  // No restart pass: it would double a run that already takes minutes on 2 cores.
  return [await measure('scheduler_1m', options, 1_000_000, 3, false)];
}

if (require.main === module && process.env.BENCH_SCHEDULE_PLATFORM) servePlatform();
