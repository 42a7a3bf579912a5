import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { LeaderLock } from '../../domain/schedule/schedule-ports';
import { backoffDelay } from '../../retry';
import { connectAmqp } from './connection';

/**
 * "One scheduler among N replicas" on RabbitMQ alone, with a single-active-consumer queue
 * (`x-single-active-consumer: true`): every replica consumes it, the broker delivers to exactly one
 * of them (the active consumer) and hands over to the next one when that consumer's channel or
 * connection goes away. AMQP 0-9-1 does not tell a consumer it became active, so every replica
 * publishes a small probe to the queue every `heartbeatMs`: whoever receives probes is the active
 * consumer, hence the leader.
 *
 * - Takeover: on a clean stop the leader cancels its consumer and then publishes one last probe,
 *   which reaches the newly active consumer at once. After a crash the broker activates the next
 *   consumer as soon as it sees the TCP close, and the next probe — at most `heartbeatMs` later —
 *   makes it leader. A silent network loss is detected by the broker after its AMQP heartbeat timeout.
 * - Lease: a leader that has received nothing for `leaseMs` (it cannot reach the broker, so another
 *   replica may be taking over) steps down and re-subscribes. Keep `leaseMs` below the broker's
 *   dead-peer detection (≈ 2 × AMQP heartbeat) so two leaders never overlap; the scheduler's
 *   pre-run re-read makes any remaining overlap harmless.
 * - Probes expire (`expiration`), so the queue never fills while no replica runs; the queue itself is
 *   non-durable and expires 30 minutes after the last replica is gone (`x-expires`).
 * - `send` puts any message on the same queue: only the leader receives it (run reports from replicas
 *   that are not leader).
 */

export interface LeaderLockOptions {
  /** Opens a connection (default: `amqplib.connect(url)`). Called again after a connection loss. */
  connect?: () => Promise<ChannelModel>;
  url?: string;
  /** TLS for the default connect (same meaning as MQ_SSL_VERIFY / MQ_CA_FILE). */
  sslVerify?: boolean;
  caFile?: string;
  /** Default `coverage-scheduler-lock.<connectorId>`. */
  queue?: string;
  connectorId: string;
  /** Probe period (default 5 s). */
  heartbeatMs?: number;
  /** Silence after which a leader steps down (default 3 × heartbeatMs). */
  leaseMs?: number;
  /** Delay before reconnecting after a connection loss (default 2 s, doubling to 30 s, jittered: src/retry.ts). */
  reconnectDelayMs?: number;
  /** Expiration of messages sent with `send` (default 10 minutes). */
  messageTtlMs?: number;
  logger: Logger;
  replicaId?: string;
}

export interface AmqpLeaderLock extends LeaderLock {
  readonly queue: string;
  readonly replicaId: string;
}

/** Arguments every replica declares identically (a mismatch would fail with PRECONDITION_FAILED). */
export const LOCK_QUEUE_ARGUMENTS: Readonly<Record<string, unknown>> = {
  'x-single-active-consumer': true,
  'x-expires': 30 * 60_000,
};

export function lockQueueName(connectorId: string): string {
  return `coverage-scheduler-lock.${connectorId}`;
}

export function createLeaderLock(options: LeaderLockOptions): AmqpLeaderLock {
  const queue = options.queue ?? lockQueueName(options.connectorId);
  const replicaId = options.replicaId ?? randomUUID();
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const leaseMs = options.leaseMs ?? 3 * heartbeatMs;
  const baseReconnectMs = options.reconnectDelayMs ?? 2000;
  const messageTtlMs = options.messageTtlMs ?? 10 * 60_000;
  const log = options.logger.child({ component: 'leader-lock', queue, replica: replicaId });
  const connect =
    options.connect ??
    (() => {
      if (!options.url) throw new Error('leader lock: neither connect nor url given');
      return connectAmqp({ url: options.url, ...(options.sslVerify !== undefined ? { sslVerify: options.sslVerify } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) });
    });

  const leadershipListeners = new Set<(leader: boolean) => void>();
  const messageListeners = new Set<(m: Record<string, unknown>) => void>();
  let connection: ChannelModel | undefined;
  let channel: Channel | undefined;
  let leader = false;
  let lastDeliveryAt = 0;
  let probeTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectAttempts = 0;
  let closed = false;
  let recycling = false;
  let consumerTag: string | undefined;

  function setLeader(value: boolean): void {
    if (leader === value) return;
    leader = value;
    log.info({ leader }, value ? 'became scheduler leader' : 'stopped being scheduler leader');
    for (const l of leadershipListeners) {
      try {
        l(value);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'leadership listener failed');
      }
    }
  }

  function onDelivery(ch: Channel, msg: ConsumeMessage | null): void {
    if (!msg) {
      // Consumer cancelled by the broker (queue deleted): re-subscribe on a fresh channel.
      setLeader(false);
      void recycleChannel();
      return;
    }
    ch.ack(msg);
    lastDeliveryAt = Date.now();
    setLeader(true);
    let body: unknown;
    try {
      body = JSON.parse(msg.content.toString('utf8'));
    } catch {
      return;
    }
    if (!body || typeof body !== 'object' || (body as { type?: unknown }).type === 'probe') return;
    for (const l of messageListeners) {
      try {
        l(body as Record<string, unknown>);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'lock message listener failed');
      }
    }
  }

  async function openChannel(conn: ChannelModel): Promise<void> {
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message }, 'lock channel error'));
    ch.on('close', () => {
      if (channel === ch) {
        channel = undefined;
        setLeader(false);
        if (!closed && !recycling && connection === conn) void recycleChannel();
      }
    });
    await ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: { ...LOCK_QUEUE_ARGUMENTS } });
    await ch.prefetch(50);
    channel = ch;
    consumerTag = (await ch.consume(queue, (msg) => onDelivery(ch, msg), { noAck: false })).consumerTag;
    lastDeliveryAt = Date.now();
    probe();
  }

  /** Leaves the consumer group and joins again, so the broker can pick another active consumer. */
  async function recycleChannel(): Promise<void> {
    if (recycling || closed || !connection) return;
    recycling = true;
    const old = channel;
    channel = undefined;
    setLeader(false);
    try {
      await old?.close().catch(() => undefined);
      if (connection && !closed) await openChannel(connection);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not re-open the lock channel; reconnecting');
      await connection?.close().catch(() => undefined);
    } finally {
      recycling = false;
    }
  }

  function probe(): void {
    if (!channel) return;
    try {
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ type: 'probe', from: replicaId })), {
        expiration: String(leaseMs),
        persistent: false,
      } satisfies Options.Publish);
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'probe not sent');
    }
  }

  function onHeartbeat(): void {
    if (leader && Date.now() - lastDeliveryAt > leaseMs) {
      log.warn({ lease_ms: leaseMs }, 'no probe received within the lease; stepping down');
      void recycleChannel();
      return;
    }
    probe();
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    reconnectAttempts += 1;
    const delay = backoffDelay(reconnectAttempts, { backoffBaseMs: baseReconnectMs, backoffMaxMs: Math.max(baseReconnectMs, 30_000) });
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void establish();
    }, delay);
    reconnectTimer.unref();
  }

  async function establish(): Promise<void> {
    if (closed) return;
    let conn: ChannelModel | undefined;
    try {
      conn = await connect();
      if (closed) {
        await conn.close().catch(() => undefined);
        return;
      }
      connection = conn;
      conn.on('error', (err: Error) => log.warn({ err: err.message }, 'lock connection error'));
      conn.on('close', () => {
        if (connection !== conn) return;
        connection = undefined;
        channel = undefined;
        setLeader(false);
        if (!closed) {
          log.warn('lock connection closed; reconnecting');
          scheduleReconnect();
        }
      });
      await openChannel(conn);
      reconnectAttempts = 0;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not join the scheduler lock; retrying');
      if (conn && connection === conn) {
        await conn.close().catch(() => undefined);
      } else {
        scheduleReconnect();
      }
    }
  }

  return {
    queue,
    replicaId,
    async start() {
      if (probeTimer) return;
      closed = false;
      probeTimer = setInterval(onHeartbeat, heartbeatMs);
      probeTimer.unref();
      await establish();
    },
    isLeader: () => leader,
    onLeadershipChange(listener) {
      leadershipListeners.add(listener);
      return () => leadershipListeners.delete(listener);
    },
    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    async send(message) {
      if (!channel) throw new Error('scheduler lock channel not open');
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(message)), { expiration: String(messageTtlMs), persistent: false });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (probeTimer) clearInterval(probeTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      probeTimer = undefined;
      reconnectTimer = undefined;
      const conn = connection;
      connection = undefined;
      const ch = channel;
      channel = undefined;
      setLeader(false);
      if (ch && consumerTag) {
        // Hand over at once: leave the consumer group first, then probe so the next active consumer
        // learns it leads without waiting for its own next probe.
        await ch.cancel(consumerTag).catch(() => undefined);
        try {
          ch.sendToQueue(queue, Buffer.from(JSON.stringify({ type: 'probe', from: replicaId })), { expiration: String(leaseMs), persistent: false });
        } catch {
          // channel already gone: the broker hands over by itself
        }
      }
      await ch?.close().catch(() => undefined);
      await conn?.close().catch(() => undefined);
    },
  };
}
