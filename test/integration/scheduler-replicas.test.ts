import { connect, type ChannelModel } from 'amqplib';
import { v4 as uuidv4 } from 'uuid';
import { createLeaderLock, type AmqpLeaderLock } from '../../src/adapters/amqp/leader-lock';
import { createLogger } from '../../src/app/logger';
import { createScheduler, type Scheduler } from '../../src/app/scheduler';
import { schedulePolicyFrom } from '../../src/domain/schedule/schedule-plan';
import { createSchedulePlatform, type SchedulePlatform } from '../support/fake-opencti/schedule-ops';
import { AMQP_URL, describeWithBroker } from '../support/env';

const CONNECTOR = 'c0ffee00-0000-4000-8000-000000000003';
const DAY = 86400_000;
const log = createLogger('silent');

const policyResult = schedulePolicyFrom({
  default_periodicity: 'P1D',
  default_duration: 'P30D',
  min_periodicity: 'PT1M',
  max_duration: 'P5Y',
  timezone: 'UTC',
  first_run_grace: 'PT10M',
  run_timeout: 'PT1H',
});
if (!policyResult.ok) throw new Error('policy');
const policy = policyResult.policy;

interface Replica {
  lock: AmqpLeaderLock;
  scheduler: Scheduler;
}

function becomesLeader(replicas: Replica[], timeoutMs = 10000): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const current = replicas.find((r) => r.lock.isLeader());
    if (current) return resolve(current);
    const offs: Array<() => void> = [];
    const timer = setTimeout(() => reject(new Error('no leader in time')), timeoutMs);
    for (const r of replicas) {
      offs.push(
        r.lock.onLeadershipChange((v) => {
          if (!v) return;
          clearTimeout(timer);
          offs.forEach((o) => o());
          resolve(r);
        }),
      );
    }
  });
}

describeWithBroker('two scheduler replicas against the real broker', () => {
  let admin: ChannelModel;
  let queue: string;
  let now: Date;
  let platform: SchedulePlatform;
  const replicas: Replica[] = [];

  function replica(): Replica {
    const lock = createLeaderLock({ url: AMQP_URL, connectorId: CONNECTOR, queue, heartbeatMs: 100, reconnectDelayMs: 100, logger: log });
    const scheduler = createScheduler({ source: platform.source, trigger: platform.trigger, lock, clock: { now: () => now }, policy, logger: log });
    const r = { lock, scheduler };
    replicas.push(r);
    return r;
  }

  beforeAll(async () => {
    admin = await connect(AMQP_URL);
  });
  afterAll(async () => {
    await admin.close();
  });
  beforeEach(() => {
    queue = `coverage-scheduler-lock.test-${uuidv4()}`;
    now = new Date('2026-03-01T12:00:00Z');
    platform = createSchedulePlatform({ connectorId: CONNECTOR, now: () => now, pageSize: 3 });
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.scheduler.close();
    const ch = await admin.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await ch.close().catch(() => undefined);
  });

  it('schedules with exactly one replica: every due coverage is run once', async () => {
    const covs = Array.from({ length: 7 }, () => platform.add({ createdAt: new Date(now.getTime() - 5 * DAY), lastResultAt: new Date(now.getTime() - DAY) }));
    const a = replica();
    const b = replica();
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const leader = await becomesLeader([a, b]);
    const follower = leader === a ? b : a;
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
    const a = replica();
    const b = replica();
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const leader = await becomesLeader([a, b]);
    const follower = leader === a ? b : a;
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
    const a = replica();
    const b = replica();
    await Promise.all([a.scheduler.start(), b.scheduler.start()]);
    const leader = await becomesLeader([a, b]);
    const follower = leader === a ? b : a;
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
