import { connect, type ChannelModel } from 'amqplib';
import { v4 as uuidv4 } from 'uuid';
import type { AmqpLeaderLock } from '../../src/adapters/amqp/leader-lock';
import { AMQP_URL } from './env';

/** Shared by test/integration/scheduler-*.test.ts: leader-lock queues on the real broker. */

/** Resolves with the lock that becomes leader next, or the current leader (event-driven, no polling). */
export function nextLeader(locks: AmqpLeaderLock[], timeoutMs = 10000): Promise<AmqpLeaderLock> {
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

export interface LockQueue {
  /** This test's uuid-suffixed queue name. */
  readonly name: string;
  /** The suite's admin connection (to act on the queue behind the locks' back). */
  readonly admin: ChannelModel;
}

/**
 * Registers the jest hooks of a lock-queue suite: one admin connection for the suite, a fresh
 * uuid-suffixed queue name per test and, after each test, `release()` (close what uses the queue)
 * then the queue's deletion.
 */
export function useLockQueue(release: () => Promise<void>): LockQueue {
  let admin: ChannelModel | undefined;
  let name = '';
  beforeAll(async () => {
    admin = await connect(AMQP_URL);
  });
  afterAll(async () => {
    await admin?.close();
  });
  beforeEach(() => {
    name = `coverage-scheduler-lock.test-${uuidv4()}`;
  });
  afterEach(async () => {
    await release();
    if (!admin) return;
    const ch = await admin.createChannel();
    await ch.deleteQueue(name).catch(() => undefined);
    await ch.close().catch(() => undefined);
  });
  return {
    get name() {
      return name;
    },
    get admin() {
      if (!admin) throw new Error('useLockQueue: the admin connection is opened in beforeAll');
      return admin;
    },
  };
}
