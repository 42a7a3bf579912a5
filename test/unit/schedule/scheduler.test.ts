import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScheduleCache, readAllEntries } from '../../../src/adapters/store/schedule-cache';
import { createLogger } from '../../../src/app/logger';
import { createScheduler, type Scheduler, type SchedulerDeps } from '../../../src/app/scheduler/scheduler';
import type { LeaderLock } from '../../../src/domain/schedule/schedule-ports';
import { createSchedulePlatform, type SchedulePlatform } from '../../support/fake-opencti/schedule-ops';
import { testSchedulePolicy } from '../../support/schedule-policy';

const CONNECTOR = 'c0ffee00-0000-4000-8000-000000000001';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A lock the test flips by hand; `sent` records what non-leaders forward to the leader. */
function manualLock(initial = true): LeaderLock & { set(v: boolean): void; sent: Record<string, unknown>[]; deliver(m: Record<string, unknown>): void } {
  let leader = initial;
  const listeners = new Set<(v: boolean) => void>();
  const messageListeners = new Set<(m: Record<string, unknown>) => void>();
  const sent: Record<string, unknown>[] = [];
  return {
    sent,
    start: async () => undefined,
    isLeader: () => leader,
    onLeadershipChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onMessage: (l) => {
      messageListeners.add(l);
      return () => messageListeners.delete(l);
    },
    send: async (m) => {
      sent.push(m);
    },
    close: async () => undefined,
    set(v) {
      leader = v;
      for (const l of listeners) l(v);
    },
    deliver(m) {
      for (const l of messageListeners) l(m);
    },
  };
}

const T0 = new Date('2026-01-01T00:00:00Z');

describe('scheduler', () => {
  let now: Date;
  let platform: SchedulePlatform;
  const clock = { now: () => now };
  const advance = (ms: number): Date => {
    now = new Date(now.getTime() + ms);
    return now;
  };
  const log = createLogger('silent');
  const open: Scheduler[] = [];

  function scheduler(extra: Partial<SchedulerDeps> = {}): Scheduler {
    const s = createScheduler({ source: platform.source, trigger: platform.trigger, lock: manualLock(true), clock, policy: testSchedulePolicy(), logger: log, ...extra });
    open.push(s);
    return s;
  }

  /** The worker processing a scheduled run: the platform stores last_result, the worker reports it. */
  async function completeRun(s: Scheduler, workId: string, ranAt = now): Promise<void> {
    const cov = platform.complete(workId, ranAt);
    await s.recordRun({ standardId: cov.standardId, id: cov.id, ranAt, periodicity: cov.periodicity, duration: cov.duration, createdAt: cov.createdAt });
  }

  beforeEach(() => {
    now = T0;
    platform = createSchedulePlatform({ connectorId: CONNECTOR, now: () => now, pageSize: 2 });
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('does nothing while another replica is leader', async () => {
    platform.add({ createdAt: new Date(T0.getTime() - 2 * DAY), lastResultAt: new Date(T0.getTime() - DAY - 1) });
    const s = scheduler({ lock: manualLock(false) });
    await s.start();
    const r = await s.tick(now);
    expect(r.leader).toBe(false);
    expect(platform.calls).toEqual({ listPage: 0, get: 0, ask: 0 });
  });

  it('reconciles every page on its first tick and starts only the due coverages', async () => {
    const due1 = platform.add({ createdAt: new Date(T0.getTime() - 5 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    const due2 = platform.add({ createdAt: new Date(T0.getTime() - 5 * DAY), periodicity: 'PT6H', lastResultAt: new Date(T0.getTime() - 7 * HOUR) });
    platform.add({ createdAt: new Date(T0.getTime() - 5 * DAY), lastResultAt: new Date(T0.getTime() - HOUR) });
    platform.add({ createdAt: new Date(T0.getTime() - 5 * DAY), lastResultAt: new Date(T0.getTime() - 2 * DAY), manual: true });
    platform.add({ createdAt: new Date(T0.getTime() - 60 * DAY), lastResultAt: new Date(T0.getTime() - 31 * DAY) });
    const s = scheduler();
    await s.start();
    const r = await s.tick(now);
    expect(r.reconciled).toBe(true);
    expect(platform.calls.listPage).toBe(3); // 5 coverages, pages of 2
    expect(r.started.map((x) => x.standardId).sort()).toEqual([due1.standardId, due2.standardId].sort());
    expect(r.started.every((x) => typeof x.workId === 'string')).toBe(true);
    const statuses = Object.fromEntries(s.plans(now).map((p) => [p.standardId, p.status]));
    expect(Object.values(statuses).sort()).toEqual(['finished', 'manual', 'running', 'running', 'scheduled']);
  });

  it('makes no platform call on a tick where nothing is due', async () => {
    platform.add({ createdAt: T0, lastResultAt: T0 });
    const s = scheduler();
    await s.start();
    await s.tick(now);
    const before = { ...platform.calls };
    for (let i = 0; i < 30; i += 1) await s.tick(advance(60_000));
    expect(platform.calls).toEqual(before);
  });

  it('starts each run once, waits for its result, then plans the next one a periodicity after it', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    const s = scheduler();
    await s.start();
    const first = await s.tick(now);
    expect(first.started).toHaveLength(1);
    // The run is in flight: later ticks do not start it again.
    for (let i = 0; i < 5; i += 1) expect((await s.tick(advance(60_000))).started).toHaveLength(0);
    await completeRun(s, first.started[0].workId as string);
    const ranAt = now;
    expect(s.plans(now)[0].nextRunAt).toEqual(new Date(ranAt.getTime() + DAY));
    expect((await s.tick(advance(DAY - 60_000))).started).toHaveLength(0);
    expect((await s.tick(advance(60_000))).started).toHaveLength(1);
    expect(platform.asksFor(cov.standardId)).toHaveLength(2);
  });

  it('runs a P1D / P30D coverage 30 times (creation run included) and then marks it finished', async () => {
    const cov = platform.add({ createdAt: T0, lastResultAt: T0 }); // the creation enrichment ran at T0
    const s = scheduler();
    await s.start();
    for (let minute = 0; minute < 40 * 24 * 60; minute += 1) {
      const r = await s.tick(now);
      for (const run of r.started) await completeRun(s, run.workId as string, new Date(now.getTime() + 5000));
      advance(60_000);
    }
    expect(platform.asksFor(cov.standardId)).toHaveLength(29);
    const plan = s.plans(now)[0];
    expect(plan.status).toBe('finished');
    expect(plan.lastRunAt?.getTime()).toBeLessThan(new Date('2026-01-31T00:00:00Z').getTime());
  });

  it('does not run a coverage that ran since it was indexed (manual re-trigger, other replica)', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - 2 * DAY), lastResultAt: new Date(T0.getTime() - HOUR) });
    const s = scheduler({ reconcileEveryMs: 100 * DAY }); // only the pre-run re-read can notice
    await s.start();
    await s.tick(now);
    // Someone else runs it 20 h later; this scheduler is not told.
    advance(20 * HOUR);
    cov.lastResultAt = now;
    const r = await s.tick(advance(3 * HOUR + 1000));
    expect(r.started).toHaveLength(0);
    expect(r.skipped).toEqual([{ standardId: cov.standardId, reason: 'ran-since' }]);
    expect(s.plans(now)[0].nextRunAt).toEqual(new Date(cov.lastResultAt.getTime() + DAY));
  });

  it('does not start a run while another replica\'s run of it is in flight', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - 2 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    await platform.trigger.trigger({ id: cov.id, standardId: cov.standardId, createdAt: cov.createdAt }); // a work already exists
    const s = scheduler();
    await s.start();
    const r = await s.tick(advance(30_000));
    expect(r.started).toHaveLength(0);
    expect(r.skipped).toEqual([{ standardId: cov.standardId, reason: 'running' }]);
    expect(platform.asksFor(cov.standardId)).toHaveLength(1);
  });

  it('applies a periodicity edited in the platform at the next reconciliation', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - DAY), lastResultAt: T0 });
    const s = scheduler({ reconcileEveryMs: HOUR });
    await s.start();
    await s.tick(now);
    expect(s.plans(now)[0].nextRunAt).toEqual(new Date(T0.getTime() + DAY));
    cov.periodicity = 'PT2H';
    await s.tick(advance(HOUR)); // hourly reconciliation
    expect(s.plans(now)[0].periodicity).toBe('PT2H');
    const r = await s.tick(advance(HOUR));
    expect(r.started).toHaveLength(1);
  });

  it('applies a periodicity and duration reported by the worker at once', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - DAY), lastResultAt: T0 });
    const s = scheduler();
    await s.start();
    await s.tick(now);
    await s.recordRun({ standardId: cov.standardId, ranAt: now, periodicity: 'PT30M', duration: 'P2D' });
    const plan = s.plans(now)[0];
    expect(plan.nextRunAt).toEqual(new Date(T0.getTime() + 30 * 60_000));
    expect(plan.endsAt).toEqual(new Date(T0.getTime() + DAY)); // created a day ago + P2D
  });

  it('uses the default periodicity for an invalid one and says so', async () => {
    platform.add({ createdAt: new Date(T0.getTime() - DAY), lastResultAt: T0, periodicity: 'PT0S' });
    const s = scheduler();
    await s.start();
    await s.tick(now);
    const plan = s.plans(now)[0];
    expect(plan.periodicity).toBe('P1D');
    expect(plan.issues[0]).toEqual({ code: 'invalid-periodicity', reason: 'periodicity "PT0S" is zero; using the default P1D' });
  });

  it('loses no run and doubles none when the leader is killed and a new one starts without its memory', async () => {
    const inFlight = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    const a = scheduler();
    await a.start();
    const r = await a.tick(now);
    expect(r.started).toHaveLength(1);
    // A dies without closing (its memory is gone). Meanwhile a second coverage becomes due.
    open.splice(open.indexOf(a), 1);
    const owed = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY + 2 * 60_000) });
    advance(3 * 60_000);
    const b = scheduler();
    await b.start();
    const rb = await b.tick(now);
    expect(rb.started.map((x) => x.standardId)).toEqual([owed.standardId]); // owed run not lost
    expect(platform.asksFor(inFlight.standardId)).toHaveLength(1); // in-flight run not doubled
    // The in-flight run finishes; B learns it from the worker and plans from it.
    await completeRun(b, r.started[0].workId as string);
    const ranAt = now;
    await b.tick(advance(DAY - 60_000));
    expect(platform.asksFor(inFlight.standardId)).toHaveLength(1);
    expect(b.plans(now).find((p) => p.standardId === inFlight.standardId)?.nextRunAt).toEqual(new Date(ranAt.getTime() + DAY));
  });

  describe('with a state file', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sched-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('restarts from the cache when the platform listing is down, still without doubles', async () => {
      const file = join(dir, 'schedule.json');
      const cov = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: T0 });
      const a = scheduler({ cache: createScheduleCache(file) });
      await a.start();
      await a.tick(now);
      await a.close();
      open.splice(open.indexOf(a), 1);

      advance(DAY);
      const listPage = platform.source.listPage;
      const b = scheduler({
        cache: createScheduleCache(file),
        source: { ...platform.source, listPage: async () => Promise.reject(new Error('platform listing down')) },
      });
      await b.start();
      const r = await b.tick(now);
      expect(r.reconciled).toBe(false);
      expect(r.started.map((x) => x.standardId)).toEqual([cov.standardId]);
      expect(platform.source.listPage).toBe(listPage);
    });

    it('treats a corrupt cache as empty and rebuilds it from the platform', async () => {
      const file = join(dir, 'schedule.json');
      writeFileSync(file, '{ not json');
      const cov = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
      const s = scheduler({ cache: createScheduleCache(file) });
      await s.start();
      const r = await s.tick(now);
      expect(r.started.map((x) => x.standardId)).toEqual([cov.standardId]);
      expect((await readAllEntries(createScheduleCache(file))).map((e) => e.standardId)).toEqual([cov.standardId]);
    });
  });

  it('retries a run the platform refused to start, after the retry delay', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    let fail = true;
    const s = scheduler({
      retryDelayMs: 5 * 60_000,
      trigger: {
        trigger: async (c) => {
          if (fail) throw Object.assign(new Error('platform down'), { code: 'PLATFORM_UNAVAILABLE' });
          return platform.trigger.trigger(c);
        },
      },
    });
    await s.start();
    const r = await s.tick(now);
    expect(r.failed).toEqual([{ standardId: cov.standardId, code: 'PLATFORM_UNAVAILABLE', message: 'platform down' }]);
    fail = false;
    expect((await s.tick(advance(4 * 60_000))).started).toHaveLength(0);
    expect((await s.tick(advance(60_000))).started).toHaveLength(1);
  });

  it('forgets a coverage deleted in the platform', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: T0 });
    const s = scheduler({ reconcileEveryMs: 100 * DAY }); // the pre-run re-read finds it gone
    await s.start();
    await s.tick(now);
    platform.coverages.delete(cov.standardId);
    const r = await s.tick(advance(DAY));
    expect(r.skipped).toEqual([{ standardId: cov.standardId, reason: 'deleted' }]);
    expect(s.plans(now)).toEqual([]);
  });

  it('forgets coverages missing from a full reconciliation', async () => {
    const gone = platform.add({ createdAt: T0, lastResultAt: T0 });
    const kept = platform.add({ createdAt: T0, lastResultAt: T0 });
    const s = scheduler({ reconcileEveryMs: HOUR });
    await s.start();
    await s.tick(now);
    platform.coverages.delete(gone.standardId);
    const r = await s.tick(advance(HOUR));
    expect(r.reconciled).toBe(true);
    expect(s.plans(now).map((p) => p.standardId)).toEqual([kept.standardId]);
  });

  it('starts at most max_runs_per_tick runs and the rest at the next tick', async () => {
    for (let i = 0; i < 5; i += 1) platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    const s = scheduler({ maxRunsPerTick: 3 });
    await s.start();
    expect((await s.tick(now)).started).toHaveLength(3);
    expect((await s.tick(advance(60_000))).started).toHaveLength(2);
  });

  it('forwards run reports to the leader when it is not the leader, and applies those it receives as leader', async () => {
    const follower = manualLock(false);
    const s = scheduler({ lock: follower });
    await s.start();
    await s.recordRun({ standardId: 'security-coverage--x', ranAt: now, periodicity: 'PT6H', duration: 'P1D' });
    expect(follower.sent).toEqual([expect.objectContaining({ type: 'run', standardId: 'security-coverage--x', periodicity: 'PT6H', ranAt: now.toISOString() })]);

    const leaderLock = manualLock(true);
    const leader = scheduler({ lock: leaderLock });
    await leader.start();
    leaderLock.deliver(follower.sent[0]);
    expect(leader.plans(now).map((p) => [p.standardId, p.nextRunAt?.toISOString()])).toEqual([
      ['security-coverage--x', new Date(now.getTime() + 6 * HOUR).toISOString()],
    ]);
  });

  it('reconciles and ticks as soon as it becomes leader', async () => {
    const cov = platform.add({ createdAt: new Date(T0.getTime() - 3 * DAY), lastResultAt: new Date(T0.getTime() - DAY) });
    const lock = manualLock(false);
    const s = scheduler({ lock });
    await s.start();
    const asked = new Promise<void>((resolve) => {
      platform.onAsk = () => resolve();
    });
    lock.set(true);
    await asked;
    expect(platform.asksFor(cov.standardId)).toHaveLength(1);
    expect(platform.calls.listPage).toBe(1);
  });
});
