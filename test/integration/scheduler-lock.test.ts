import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type ChannelModel } from 'amqplib';
import { v4 as uuidv4 } from 'uuid';
import { createLeaderLock, type AmqpLeaderLock } from '../../src/adapters/amqp/leader-lock';
import { createLogger } from '../../src/app/logger';
import { AMQP_URL, PROJECT_DIR, describeWithBroker } from '../support/env';

const log = createLogger('silent');
const HEARTBEAT_MS = 100;

/** Resolves with the lock that becomes leader next (event-driven, no polling). */
function nextLeader(locks: AmqpLeaderLock[], timeoutMs = 10000): Promise<AmqpLeaderLock> {
  return new Promise((resolve, reject) => {
    const current = locks.find((l) => l.isLeader());
    if (current) return resolve(current);
    const offs: Array<() => void> = [];
    const timer = setTimeout(() => {
      offs.forEach((o) => o());
      reject(new Error('no leader elected in time'));
    }, timeoutMs);
    for (const l of locks) {
      offs.push(
        l.onLeadershipChange((leader) => {
          if (!leader) return;
          clearTimeout(timer);
          offs.forEach((o) => o());
          resolve(l);
        }),
      );
    }
  });
}

function messageOn(lock: AmqpLeaderLock, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const off = lock.onMessage((m) => {
      if (m.type === type) {
        off();
        resolve(m);
      }
    });
  });
}

describeWithBroker('scheduler lock on a single-active-consumer queue (real broker)', () => {
  let admin: ChannelModel;
  let queue: string;
  const locks: AmqpLeaderLock[] = [];
  const children: ChildProcess[] = [];

  const lock = (): AmqpLeaderLock => {
    const l = createLeaderLock({ url: AMQP_URL, connectorId: 'test', queue, heartbeatMs: HEARTBEAT_MS, reconnectDelayMs: 100, logger: log });
    locks.push(l);
    return l;
  };

  beforeAll(async () => {
    admin = await connect(AMQP_URL);
  });
  afterAll(async () => {
    await admin.close();
  });
  beforeEach(() => {
    queue = `coverage-scheduler-lock.test-${uuidv4()}`;
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const l of locks.splice(0)) await l.close();
    const ch = await admin.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await ch.close().catch(() => undefined);
  });

  it('makes exactly one of two replicas leader, and delivers messages to it only', async () => {
    const a = lock();
    const b = lock();
    await Promise.all([a.start(), b.start()]);
    const leader = await nextLeader([a, b]);
    const follower = leader === a ? b : a;
    const received = messageOn(leader, 'hello');
    let followerGotIt = false;
    follower.onMessage(() => {
      followerGotIt = true;
    });
    await follower.send({ type: 'hello', from: follower.replicaId });
    expect(await received).toEqual({ type: 'hello', from: follower.replicaId });
    // The follower's probes have reached the leader meanwhile; it still does not lead.
    expect(follower.isLeader()).toBe(false);
    expect(leader.isLeader()).toBe(true);
    expect(followerGotIt).toBe(false);
  });

  it('hands leadership over when the leader stops', async () => {
    const a = lock();
    const b = lock();
    await Promise.all([a.start(), b.start()]);
    const leader = await nextLeader([a, b]);
    const follower = leader === a ? b : a;
    const takeover = nextLeader([follower]);
    const stoppedAt = Date.now();
    await leader.close();
    await takeover;
    const takeoverMs = Date.now() - stoppedAt;
    expect(follower.isLeader()).toBe(true);
    // Bounded: the broker activates the next consumer at once; its next probe makes it leader.
    expect(takeoverMs).toBeLessThan(5000);
  });

  it('hands leadership over when the leader process is killed (SIGKILL)', async () => {
    const script = `
      const { createLeaderLock } = require('./src/adapters/amqp/leader-lock');
      const pino = require('pino');
      const l = createLeaderLock({ url: process.env.AMQP_URL, connectorId: 'test', queue: process.env.LOCK_QUEUE, heartbeatMs: ${HEARTBEAT_MS}, logger: pino({ level: 'silent' }) });
      l.onLeadershipChange((v) => v && process.stdout.write('LEADER\\n'));
      l.start();
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: PROJECT_DIR,
      env: { ...process.env, AMQP_URL, LOCK_QUEUE: queue, TS_NODE_PROJECT: 'tsconfig.json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('LEADER') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const survivor = lock();
    await survivor.start();
    expect(survivor.isLeader()).toBe(false);
    const takeover = nextLeader([survivor]);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await takeover;
    expect(Date.now() - killedAt).toBeLessThan(10000);
  }, 30000);

  it('lets a lone replica lead and regain leadership after its channel is closed by the broker', async () => {
    const a = lock();
    await a.start();
    await nextLeader([a]);
    const lost = new Promise<void>((resolve) => {
      const off = a.onLeadershipChange((v) => {
        if (!v) {
          off();
          resolve();
        }
      });
    });
    // Deleting the queue cancels the consumer: the lock re-declares it and leads again.
    const ch = await admin.createChannel();
    await ch.deleteQueue(queue);
    await ch.close();
    await lost;
    await nextLeader([a]);
    expect(a.isLeader()).toBe(true);
  });
});
