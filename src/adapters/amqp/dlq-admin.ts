import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type GetMessage, type MessageProperties } from 'amqplib';
import { BrokerError, errorMessageOf } from '../../errors';
import { connectAmqp } from './connection';
import { redactUrl } from './connection-url';
import { bodyId, readDeadLetterHeaders, type DeadLetterRecord } from './dead-letter';

/**
 * Operator access to queues for the CLI (`dlq`, `retrigger`, `status`): read the dead-letter queue
 * without losing or reordering anything, move messages back to the listen queue, publish requests,
 * purge. Separate from the daemon's Broker: short-lived, no consumer, no reconnection.
 *
 * Reading: basic.get with manual ack on a dedicated channel, then nack-requeue everything held, so the
 * broker puts each message back at its original position; if the process dies halfway the channel
 * closes and the broker requeues them all the same. Moving: publish on a confirm channel with
 * `mandatory` (an unroutable message is returned, not dropped), ack the source copy only after the
 * confirm. Headers written by src/adapters/amqp/dead-letter.ts are read back here.
 */

export interface QueuedMessage extends DeadLetterRecord {
  /** `messageId` when the publisher set one, else bodyId (`sha-` + 12 hex of the body). */
  id: string;
  messageId?: string;
  bytes: number;
  body: Buffer;
  headers: Record<string, unknown>;
  properties: MessageProperties;
}

export interface MoveResult {
  moved: QueuedMessage[];
  /** Messages looked at and left in place. */
  kept: number;
  /** Set when a publish failed: that message and every later one stayed in the source queue. */
  error?: string;
}

export interface MoveOptions {
  onMoved?: (m: QueuedMessage) => void;
  /**
   * Prepares each selected message before it is published (e.g. a fresh work id in the body); extra
   * headers are merged; `undo` runs when the publish then fails. A throw stops the move like a failed
   * publish (the message stays where it was).
   */
  prepare?: (m: QueuedMessage) => Promise<{ body: Buffer; headers?: Record<string, unknown>; undo?: () => Promise<void> }>;
}

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  body: Buffer;
  messageId?: string;
  headers?: Record<string, unknown>;
}

export interface QueueAdmin {
  /** Messages ready in `queue`; null when the queue does not exist. Throws BrokerError when the broker is down. */
  depth(queue: string): Promise<number | null>;
  /** Every message of `queue` (at most `limit`), left in place and in order. MissingQueueError when it does not exist. */
  peek(queue: string, options?: { limit?: number }): Promise<QueuedMessage[]>;
  /**
   * Moves the messages of `from` that `select` picks to queue `to` (default exchange), one confirmed
   * publish at a time; looks at most at the messages present when it starts, so a message that
   * fails again and comes back meanwhile is not moved twice.
   */
  move(from: string, to: string, select: (m: QueuedMessage) => boolean, options?: MoveOptions): Promise<MoveResult>;
  /** Persistent, confirmed, mandatory publish (JSON). */
  publish(request: PublishRequest): Promise<void>;
  /** Deletes every ready message of `queue`; returns how many. MissingQueueError when it does not exist. */
  purge(queue: string): Promise<number>;
  close(): Promise<void>;
}

/** The queue does not exist (yet): a state to report, not a broker failure. */
export class MissingQueueError extends Error {
  constructor(readonly queue: string, options?: ErrorOptions) {
    super(`queue ${queue} does not exist`, options);
    this.name = 'MissingQueueError';
  }
}

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

export interface QueueAdminOptions {
  url: string;
  sslVerify?: boolean;
  caFile?: string;
  /** Socket connect timeout (ms). */
  timeoutMs?: number;
}

export function toQueuedMessage(msg: Pick<GetMessage, 'content' | 'properties'>): QueuedMessage {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const rawId: unknown = msg.properties.messageId;
  const messageId = typeof rawId === 'string' && rawId !== '' ? rawId : Buffer.isBuffer(rawId) ? rawId.toString('utf8') : undefined;
  return {
    id: messageId ?? bodyId(msg.content),
    ...(messageId ? { messageId } : {}),
    ...readDeadLetterHeaders(headers),
    bytes: msg.content.length,
    body: msg.content,
    headers,
    properties: msg.properties,
  };
}

/** Publish options that carry a message over unchanged (body, id, headers, timestamps). */
function carriedOver(m: QueuedMessage, extraHeaders: Record<string, unknown>): amqp.Options.Publish {
  const p = m.properties;
  return {
    persistent: true,
    headers: { ...m.headers, ...extraHeaders },
    // Without a publisher's id the listed id becomes the message id, so it stays the same across
    // replays even when the body changes (fresh work id).
    messageId: p.messageId ? String(p.messageId) : m.id,
    ...(p.contentType ? { contentType: String(p.contentType) } : {}),
    ...(p.contentEncoding ? { contentEncoding: String(p.contentEncoding) } : {}),
    ...(p.timestamp ? { timestamp: Number(p.timestamp) } : {}),
    ...(p.correlationId ? { correlationId: String(p.correlationId) } : {}),
  };
}

export function createQueueAdmin(options: QueueAdminOptions): QueueAdmin {
  let model: ChannelModel | undefined;
  let connecting: Promise<ChannelModel> | undefined;

  function connection(): Promise<ChannelModel> {
    if (model) return Promise.resolve(model);
    connecting ??= (async () => {
      try {
        const m = await connectAmqp({ ...options, timeoutMs: options.timeoutMs ?? 5000 });
        m.on('error', () => undefined);
        m.on('close', () => {
          model = undefined;
          connecting = undefined;
        });
        model = m;
        return m;
      } catch (err) {
        connecting = undefined;
        throw new BrokerError(`broker unreachable at ${redactUrl(options.url)}: ${errorMessageOf(err)}`, { cause: err });
      }
    })();
    return connecting;
  }

  /** A fresh channel per operation: a missing queue closes the channel (404), never the connection. */
  async function withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const ch = await (await connection()).createChannel();
    ch.on('error', () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** The queue's ready count; a missing queue (the 404 closes only this channel) is MissingQueueError. */
  async function present(ch: Channel, queue: string): Promise<number> {
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } catch (err) {
      throw isNotFound(err) ? new MissingQueueError(queue, { cause: err }) : err;
    }
  }

  async function confirmedPublish(ch: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, publish: amqp.Options.Publish): Promise<void> {
    // One publish at a time per channel, so a basic.return (sent before its ack) is this message's.
    let returned: string | undefined;
    const onReturn = (msg: { fields: { replyText?: string } }): void => {
      returned = msg.fields.replyText ?? 'NO_ROUTE';
    };
    ch.on('return', onReturn);
    try {
      await new Promise<void>((resolve, reject) => {
        ch.publish(exchange, routingKey, body, { ...publish, mandatory: true }, (err) =>
          err ? reject(new BrokerError(`the broker did not confirm the publish to ${exchange || routingKey}`, { cause: err })) : resolve(),
        );
      });
    } finally {
      ch.off('return', onReturn);
    }
    if (returned) throw new BrokerError(`publish to ${exchange ? `${exchange} / ${routingKey}` : `queue ${routingKey}`} was not routable (${returned}): nothing was delivered`);
  }

  return {
    async depth(queue) {
      await connection();
      try {
        return await withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err instanceof BrokerError ? err : new BrokerError(`cannot check queue ${queue}: ${errorMessageOf(err)}`, { cause: err });
      }
    },

    async peek(queue, { limit = Infinity } = {}) {
      return withChannel(async (ch) => {
        const count = await present(ch, queue);
        const out: QueuedMessage[] = [];
        try {
          for (let i = 0; i < Math.min(count, limit); i++) {
            const msg = await ch.get(queue, { noAck: false });
            if (!msg) break;
            out.push(toQueuedMessage(msg));
          }
        } finally {
          ch.nackAll(true);
        }
        return out;
      });
    },

    async move(from, to, select, { onMoved, prepare } = {}) {
      const conn = await connection();
      const pub = await conn.createConfirmChannel();
      pub.on('error', () => undefined);
      try {
        return await withChannel(async (ch) => {
          const count = await present(ch, from);
          const result: MoveResult = { moved: [], kept: 0 };
          try {
            for (let i = 0; i < count; i++) {
              const msg = await ch.get(from, { noAck: false });
              if (!msg) break;
              const m = toQueuedMessage(msg);
              if (!select(m)) {
                result.kept += 1;
                continue;
              }
              let undo: (() => Promise<void>) | undefined;
              try {
                const prepared = prepare ? await prepare(m) : { body: msg.content };
                undo = prepared.undo;
                const headers = { ...prepared.headers, 'x-replays': m.replays + 1, 'x-replayed-at': new Date().toISOString() };
                await confirmedPublish(pub, '', to, prepared.body, carriedOver(m, headers));
              } catch (err) {
                result.error = `${m.id}: ${errorMessageOf(err)}`;
                await undo?.().catch(() => undefined);
                break; // this one and the rest go back untouched by nackAll below
              }
              ch.ack(msg);
              result.moved.push(m);
              onMoved?.(m);
            }
          } finally {
            ch.nackAll(true);
          }
          return result;
        });
      } finally {
        await pub.close().catch(() => undefined);
      }
    },

    async publish(request) {
      const conn = await connection();
      const pub = await conn.createConfirmChannel();
      pub.on('error', () => undefined);
      try {
        await confirmedPublish(pub, request.exchange, request.routingKey, request.body, {
          persistent: true,
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          timestamp: Math.floor(Date.now() / 1000),
          ...(request.messageId ? { messageId: request.messageId } : {}),
          ...(request.headers ? { headers: request.headers } : {}),
        });
      } finally {
        await pub.close().catch(() => undefined);
      }
    },

    async purge(queue) {
      return withChannel(async (ch) => {
        await present(ch, queue);
        return (await ch.purgeQueue(queue)).messageCount;
      });
    },

    async close() {
      const m = model ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      model = undefined;
      connecting = undefined;
      await m?.close().catch(() => undefined);
    },
  };
}
