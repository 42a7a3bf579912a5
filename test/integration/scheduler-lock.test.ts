import { spawn, type ChildProcess } from 'node:child_process';
import { createLeaderLock, type AmqpLeaderLock } from '../../src/adapters/amqp/leader-lock';
import { createLogger } from '../../src/app/logger';
import { AMQP_URL, PROJECT_DIR, TS_REGISTER, describeWithBroker } from '../support/env';
import { nextLeader, useLockQueue } from '../support/leader-lock';

const log = createLogger('silent');
const HEARTBEAT_MS = 100;

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
  const locks: AmqpLeaderLock[] = [];
  const children: ChildProcess[] = [];
  const queue = useLockQueue(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const l of locks.splice(0)) await l.close();
  });

  const lock = (): AmqpLeaderLock => {
    const l = createLeaderLock({ url: AMQP_URL, connectorId: 'test', queue: queue.name, heartbeatMs: HEARTBEAT_MS, reconnectDelayMs: 100, logger: log });
    locks.push(l);
    return l;
  };

  /** Two started locks, once one of them leads. */
  async function startedPair(): Promise<{ leader: AmqpLeaderLock; follower: AmqpLeaderLock }> {
    const a = lock();
    const b = lock();
    await Promise.all([a.start(), b.start()]);
    const leader = await nextLeader([a, b]);
    return { leader, follower: leader === a ? b : a };
  }

  it('makes exactly one of two replicas leader, and delivers messages to it only', async () => {
    const { leader, follower } = await startedPair();
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
    const { leader, follower } = await startedPair();
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
    const child = spawn(process.execPath, ['-r', TS_REGISTER, '-e', script], {
      cwd: PROJECT_DIR,
      env: { ...process.env, AMQP_URL, LOCK_QUEUE: queue.name, TS_NODE_PROJECT: 'tsconfig.json' },
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
    const ch = await queue.admin.createChannel();
    await ch.deleteQueue(queue.name);
    await ch.close();
    await lost;
    await nextLeader([a]);
    expect(a.isLeader()).toBe(true);
  });
});
