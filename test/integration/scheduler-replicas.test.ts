import { createLeaderLock, type AmqpLeaderLock } from '../../src/adapters/amqp/leader-lock';
import { createLogger } from '../../src/app/logger';
import { createScheduler, type Scheduler } from '../../src/app/scheduler/scheduler';
import { createSchedulePlatform, type SchedulePlatform } from '../support/fake-opencti/schedule-ops';
import { AMQP_URL, describeWithBroker } from '../support/env';
import { nextLeader, useLockQueue } from '../support/leader-lock';
import { testSchedulePolicy } from '../support/schedule-policy';

const CONNECTOR = 'c0ffee00-0000-4000-8000-000000000003';
const DAY = 86400_000;
const log = createLogger('silent');

const policy = testSchedulePolicy();

interface Replica {
  lock: AmqpLeaderLock;
  scheduler: Scheduler;
}

async function becomesLeader(replicas: Replica[]): Promise<Replica> {
  const lock = await nextLeader(replicas.map((r) => r.lock));
  return replicas.find((r) => r.lock === lock) as Replica;
}

describeWithBroker('two scheduler replicas against the real broker', () => {
  let now: Date;
  let platform: SchedulePlatform;
  const replicas: Replica[] = [];
  const queue = useLockQueue(async () => {
    for (const r of replicas.splice(0)) await r.scheduler.close();
  });

  function replica(): Replica {
    const lock = createLeaderLock({ url: AMQP_URL, connectorId: CONNECTOR, queue: queue.name, heartbeatMs: 100, reconnectDelayMs: 100, logger: log });
    const scheduler = createScheduler({ source: platform.source, trigger: platform.trigger, lock, clock: { now: () => now }, policy, logger: log });
    const r = { lock, scheduler };
    replicas.push(r);
    return r;
  }

  /** Two started replicas, once one of them leads. */
  async function startedPair(): Promise<{ a: Replica; b: Replica; leader: Replica; follower: Replica }> {
    const a = replica();
    const b = replica();
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const leader = await becomesLeader([a, b]);
    return { a, b, leader, follower: leader === a ? b : a };
  }

  beforeEach(() => {
    now = new Date('2026-03-01T12:00:00Z');
    platform = createSchedulePlatform({ connectorId: CONNECTOR, now: () => now, pageSize: 3 });
  });

  it('schedules with exactly one replica: every due coverage is run once', async () => {
    const covs = Array.from({ length: 7 }, () => platform.add({ createdAt: new Date(now.getTime() - 5 * DAY), lastResultAt: new Date(now.getTime() - DAY) }));
    const { a, b, leader, follower } = await startedPair();
    // Both replicas' cron fire at the same minute, several times.
    for (let i = 0; i < 3; i += 1) {
      const [ra, rb] = await Promise.all([a.scheduler.tick(now), b.scheduler.tick(now)]);
      expect([ra.leader, rb.leader].filter(Boolean)).toHaveLength(1);
    }
    expect(follower.lock.isLeader()).toBe(false);
    for (const c of covs) expect(platform.asksFor(c.standardId)).toHaveLength(1);
  });

  it('fails over to the other replica when the leader stops, without doubling its runs', async () => {
    const early = platform.add({ createdAt: new Date(now.getTime() - 5 * DAY), lastResultAt: new Date(now.getTime() - DAY) });
    const late = platform.add({ createdAt: new Date(now.getTime() - 5 * DAY), lastResultAt: new Date(now.getTime() - DAY + 10 * 60_000) });
    const { leader, follower } = await startedPair();
    await leader.scheduler.tick(now);
    expect(platform.asksFor(early.standardId)).toHaveLength(1); // in flight when the leader stops

    now = new Date(now.getTime() + 11 * 60_000); // `late` is due now
    const asked = new Promise<void>((resolve) => {
      platform.onAsk = (_w, c) => {
        if (c.standardId === late.standardId) resolve();
      };
    });
    await leader.scheduler.close();
    await becomesLeader([follower]);
    await asked; // the new leader reconciles and ticks on taking over
    await follower.scheduler.tick(now);
    expect(platform.asksFor(late.standardId)).toHaveLength(1);
    expect(platform.asksFor(early.standardId)).toHaveLength(1);
  });

  it('forwards a run reported on the follower to the leader', async () => {
    const cov = platform.add({ createdAt: new Date(now.getTime() - 5 * DAY), lastResultAt: new Date(now.getTime() - 2 * 3600_000) });
    const { leader, follower } = await startedPair();
    await leader.scheduler.tick(now);
    const received = new Promise<void>((resolve) => {
      const off = leader.lock.onMessage((m) => {
        if (m.standardId === cov.standardId) {
          off();
          resolve();
        }
      });
    });
    await follower.scheduler.recordRun({ standardId: cov.standardId, ranAt: now, periodicity: 'PT4H', duration: 'P30D' });
    await received;
    const plan = leader.scheduler.plans(now).find((p) => p.standardId === cov.standardId);
    expect(plan?.nextRunAt).toEqual(new Date(now.getTime() + 4 * 3600_000));
  });
});
