import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { amqpConnectOptions } from './connection';
import { BrokerError, StartupCancelledError } from '../../errors';
import { redactUrl } from './connection-url';

/**
 * RabbitMQ side of the daemon: consume the platform's listen queue, publish to our dead-letter queue
 * and (push_mode=amqp) to the push exchange. Uses amqplib's built-in connection recovery: `setup`
 * runs after every (re)connect and recreates the channels and the consumer, so an outage heals
 * without restarting the process. Deliveries of a lost channel cannot be settled any more; the broker
 * requeues them itself and they come back (handled idempotently).
 *
 * The listen queue belongs to the platform: it is only checked (passive), never declared (§4, P10).
 */

export interface DeliveryInfo {
  content: Buffer;
  messageId?: string;
  headers: Record<string, unknown>;
  properties: ConsumeMessage['properties'];
  redelivered: boolean;
  deliveryTag: number;
}

/** One delivery; exactly one of ack / nackRequeue takes effect (later calls are ignored and reported). */
export interface Delivery extends DeliveryInfo {
  ack(): void;
  nackRequeue(): void;
  readonly settled: boolean;
  /** Aborted when the delivery's channel is gone: the broker requeued it, stop working on this copy. */
  readonly lost: AbortSignal;
}

export interface BrokerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BrokerOptions {
  url: string;
  listenQueue: string;
  deadLetterQueue: string;
  prefetch: number;
  log: BrokerLogger;
  sslVerify?: boolean;
  caFile?: string;
  /**
   * Reconnect delays (ms); amqplib applies exponential backoff with jitter between them. The cap is
   * short (default 1 s): a reconnect attempt costs one TCP connect, and the daemon is useless while
   * disconnected, so it must be back within about a second of the broker.
   */
  reconnect?: { initialDelay?: number; maxDelay?: number };
  heartbeatSeconds?: number;
}

export interface PublishOptions extends Options.Publish {
  headers?: Record<string, unknown>;
}

export interface Broker {
  /**
   * Connects (waits for the first connection) and starts consuming into `onDelivery`. `signal`
   * (SIGTERM during startup) stops the wait: the connection is closed and start() rejects.
   */
  start(onDelivery: (delivery: Delivery) => void, signal?: AbortSignal): Promise<void>;
  /** Cancels the consumer; in-flight deliveries can still be settled. Idempotent. */
  stopConsuming(): Promise<void>;
  /**
   * Stops taking deliveries without closing anything (the platform circuit is open): the consumer is
   * cancelled, unacked deliveries can still be settled, reconnects do not consume. Idempotent.
   */
  pauseConsuming(): Promise<void>;
  /** Consumes again after pauseConsuming (on the current channel, or at the next reconnect). Idempotent. */
  resumeConsuming(): Promise<void>;
  readonly paused: boolean;
  /** Publishes on a confirm channel and resolves once the broker confirmed. */
  publish(exchange: string, routingKey: string, body: Buffer, options: PublishOptions): Promise<void>;
  /**
   * Publishes to our dead-letter queue (confirmed). Rejects with `uncertain: true` when the link broke
   * after the publish was sent: the broker may or may not have it.
   */
  publishDeadLetter(body: Buffer, options: PublishOptions): Promise<void>;
  /**
   * Whether our dead-letter queue holds a message whose `header` equals `value`: reads up to `limit`
   * messages without acknowledging them (closing the channel puts them back where they were). For
   * the rare publish whose confirm was lost with the connection.
   */
  deadLetterHas(header: string, value: string, limit?: number): Promise<boolean>;
  readonly connected: boolean;
  close(): Promise<void>;
}

export function createBroker(options: BrokerOptions): Broker {
  const { log } = options;
  let connection: Awaited<ReturnType<typeof connectRecovering>> | undefined;
  let consumeChannel: Channel | undefined;
  let confirmChannel: ConfirmChannel | undefined;
  let consumerTag: string | undefined;
  let onDelivery: ((d: Delivery) => void) | undefined;
  let consuming = false;
  let paused = false;
  let connected = false;
  /** Deliveries of the current consume channel are marked lost when it closes. */
  let consumeLost: AbortController | undefined;
  /** A consume call is on its way (pause/resume may race with a reconnect). */
  let starting = false;
  let closing = false;
  let closed: Promise<void> | undefined;

  function wrap(channel: Channel, msg: ConsumeMessage, lost: AbortSignal): Delivery {
    let settled = false;
    const settle = (what: string, fn: () => void): void => {
      if (settled) {
        log.warn({ delivery_tag: msg.fields.deliveryTag, what }, 'delivery already settled; ignoring second ack/nack');
        return;
      }
      settled = true;
      try {
        fn();
      } catch (err) {
        // The channel died with the delivery: the broker has already requeued it.
        log.warn({ err, delivery_tag: msg.fields.deliveryTag, what }, 'could not settle delivery (channel closed); it will be redelivered');
      }
    };
    return {
      content: msg.content,
      messageId: msg.properties.messageId as string | undefined,
      headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
      properties: msg.properties,
      redelivered: msg.fields.redelivered,
      deliveryTag: msg.fields.deliveryTag,
      ack: () => settle('ack', () => channel.ack(msg)),
      nackRequeue: () => settle('nack', () => channel.nack(msg, false, true)),
      get settled() {
        return settled;
      },
      lost,
    };
  }

  async function startConsumer(channel: Channel, lost: AbortSignal): Promise<void> {
    if (consumerTag || starting || paused || !consuming) return;
    starting = true;
    let reply: Awaited<ReturnType<Channel['consume']>>;
    try {
      reply = await channel.consume(
        options.listenQueue,
        (msg) => {
          if (msg === null) {
            // Cancelled by the broker (queue deleted, e.g. connector removed): reconnect; setup fails
            // until the ping loop registers again and the platform re-declares the queue.
            log.warn({ queue: options.listenQueue }, 'consumer cancelled by the broker; reconnecting');
            consumerTag = undefined;
            void connection?.__forceReconnect();
            return;
          }
          onDelivery?.(wrap(channel, msg, lost));
        },
        { noAck: false },
      );
    } finally {
      starting = false;
    }
    // Paused (or stopped) while the consume call was on its way: cancel what it started.
    if (paused || !consuming) await channel.cancel(reply.consumerTag).catch(() => undefined);
    else consumerTag = reply.consumerTag;
  }

  async function consume(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    const lost = new AbortController();
    channel.on('error', (err: Error) => log.warn({ err }, 'consumer channel error'));
    channel.on('close', () => {
      lost.abort();
      if (consumeChannel !== channel) return;
      consumeChannel = undefined;
      consumerTag = undefined;
      // Closed by the broker while the connection lives (e.g. a protocol error): start over.
      if (!closing && consuming) void model.close().catch(() => undefined);
    });
    await channel.prefetch(options.prefetch);
    await channel.checkQueue(options.listenQueue);
    consumeChannel = channel;
    consumeLost = lost;
    consumerTag = undefined;
    await startConsumer(channel, lost.signal);
  }

  async function setup(model: ChannelModel): Promise<void> {
    const confirm = await model.createConfirmChannel();
    confirm.on('error', (err: Error) => log.warn({ err }, 'publish channel error'));
    confirm.on('close', () => {
      if (confirmChannel === confirm) confirmChannel = undefined;
      // A channel closed on its own (not the connection): rebuild everything on a fresh connection.
      if (!closing && connected) void model.close().catch(() => undefined);
    });
    await confirm.assertQueue(options.deadLetterQueue, { durable: true });
    confirmChannel = confirm;
    if (consuming) await consume(model);
  }

  async function connectRecovering() {
    const recovering = await amqp.connect(options.url, {
      ...amqpConnectOptions(options),
      recovery: {
        initialDelay: options.reconnect?.initialDelay ?? 100,
        maxDelay: options.reconnect?.maxDelay ?? 1000,
        jitter: 0.3,
        maxRetries: Infinity,
        waitForConnect: false,
        setup,
      },
    } as never);
    let current: ChannelModel | undefined;
    // Attempts run about every second while the broker is away: log the first failure, then one line
    // every 30 s with the count, not one line a second.
    let failedAttempts = 0;
    let lastFailureLog = 0;
    let downSince: number | undefined;
    recovering.on('connect', (model: ChannelModel) => {
      current = model;
      connected = true;
      log.info({ url: redactUrl(options.url), ...(downSince !== undefined ? { down_ms: Date.now() - downSince, failed_attempts: failedAttempts } : {}) }, 'connected to the broker');
      failedAttempts = 0;
      downSince = undefined;
    });
    recovering.on('disconnect', (err: Error) => {
      connected = false;
      current = undefined;
      consumeChannel = undefined;
      consumerTag = undefined;
      confirmChannel = undefined;
      downSince ??= Date.now();
      if (!closing) log.warn({ err }, 'broker connection lost; reconnecting');
    });
    recovering.on('connect-failed', (err: Error) => {
      failedAttempts += 1;
      downSince ??= Date.now();
      if (failedAttempts === 1 || Date.now() - lastFailureLog >= 30000) {
        lastFailureLog = Date.now();
        log.warn({ err: { message: err.message }, failed_attempts: failedAttempts }, 'broker connection attempt failed; retrying about every second');
      }
    });
    recovering.on('error', (err: Error) => log.warn({ err }, 'broker connection error'));
    recovering.on('handler-error', (err: Error, event: string) => log.error({ err, event }, 'error in a broker event handler'));
    return Object.assign(recovering, {
      /** Drops the current connection so recovery reconnects and runs `setup` again. */
      __forceReconnect: async (): Promise<void> => {
        if (current && !closing) await current.close().catch(() => undefined);
      },
    });
  }

  let scanning: Promise<unknown> = Promise.resolve();

  async function scanDeadLetters(header: string, value: string, limit: number): Promise<boolean> {
    if (!connection) throw new BrokerError('broker not connected');
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      const { messageCount } = await channel.checkQueue(options.deadLetterQueue);
      for (let i = 0; i < Math.min(messageCount, limit); i++) {
        const m = await channel.get(options.deadLetterQueue, { noAck: false });
        if (!m) break;
        if ((m.properties.headers as Record<string, unknown> | undefined)?.[header] === value) return true;
      }
      return false;
    } finally {
      // Unacknowledged gets go back to the queue, in their places.
      await channel.close().catch(() => undefined);
    }
  }

  async function confirmedPublish(exchange: string, routingKey: string, body: Buffer, publishOptions: PublishOptions): Promise<void> {
    const channel = confirmChannel;
    if (!channel) throw new BrokerError('broker not connected: cannot publish');
    await new Promise<void>((resolve, reject) => {
      try {
        channel.publish(exchange, routingKey, body, { persistent: true, ...publishOptions }, (err) =>
          // Sent, then nacked or cut off before the confirm: whether the broker kept it is unknown.
          err ? reject(Object.assign(new BrokerError(`broker did not confirm the publish to ${exchange || routingKey}`, { cause: err }), { uncertain: true })) : resolve(),
        );
      } catch (err) {
        reject(new BrokerError(`publish to ${exchange || routingKey} failed: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  return {
    get connected() {
      return connected;
    },
    get paused() {
      return paused;
    },
    async start(handler, signal) {
      onDelivery = handler;
      consuming = true;
      if (signal?.aborted) throw new StartupCancelledError('startup cancelled before connecting to the broker');
      connection = await connectRecovering();
      const stop = (): void => void connection?.close().catch(() => undefined);
      signal?.addEventListener('abort', stop, { once: true });
      try {
        await connection.waitForConnect();
      } catch (err) {
        if (signal?.aborted) throw new StartupCancelledError('startup cancelled (signal received while waiting for the broker)', { cause: err });
        throw err;
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    },
    async stopConsuming() {
      consuming = false;
      const channel = consumeChannel;
      const tag = consumerTag;
      consumerTag = undefined;
      if (channel && tag) await channel.cancel(tag).catch(() => undefined);
    },
    async pauseConsuming() {
      if (paused) return;
      paused = true;
      const channel = consumeChannel;
      const tag = consumerTag;
      consumerTag = undefined;
      if (channel && tag) await channel.cancel(tag).catch(() => undefined);
    },
    async resumeConsuming() {
      if (!paused) return;
      paused = false;
      const channel = consumeChannel;
      // No channel now: the next (re)connect's setup starts the consumer.
      if (channel && consumeLost) {
        await startConsumer(channel, consumeLost.signal).catch((err: unknown) => log.warn({ err }, 'could not resume consuming; the next reconnect will'));
      }
    },
    publish: confirmedPublish,
    publishDeadLetter: (body, publishOptions) => confirmedPublish('', options.deadLetterQueue, body, publishOptions),
    deadLetterHas(header, value, limit = 10000) {
      // One look at a time: messages one look holds unacknowledged are invisible to another.
      const look = scanning.then(() => scanDeadLetters(header, value, limit));
      scanning = look.catch(() => undefined);
      return look;
    },
    close() {
      if (!closed) {
        closing = true;
        consuming = false;
        closed = (async () => {
          await connection?.close().catch((err: unknown) => log.warn({ err }, 'error closing the broker connection'));
          connected = false;
        })();
      }
      return closed;
    },
  };
}
