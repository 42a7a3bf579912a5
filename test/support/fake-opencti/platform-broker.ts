import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';

/**
 * The fake platform's RabbitMQ side (protocol §4): declares the listen/push exchanges and queues the
 * way the platform does on register and ping, and publishes enrichment messages persistently on a
 * confirm channel. Exchange names carry a per-instance suffix so parallel suites never collide.
 */
export interface PlatformTopology {
  listenExchange: string;
  pushExchange: string;
  listenQueue: (connectorId: string) => string;
  listenRouting: (connectorId: string) => string;
  pushQueue: (connectorId: string) => string;
  pushRouting: (connectorId: string) => string;
}

export function topology(suffix: string): PlatformTopology {
  return {
    listenExchange: `amqp.connector.exchange.${suffix}`,
    pushExchange: `amqp.worker.exchange.${suffix}`,
    listenQueue: (id) => `listen_${id}`,
    listenRouting: (id) => `listen_routing_${id}`,
    pushQueue: (id) => `push_${id}`,
    pushRouting: (id) => `push_routing_${id}`,
  };
}

export interface PlatformBroker {
  declare(connector: { id: string; name: string; scope: string[] }): Promise<void>;
  publishListen(connectorId: string, body: Buffer, options?: { messageId?: string }): Promise<void>;
  /** The platform's worker: consumes a connector's push queue (once per connector), acking after `handle`. */
  consumePush(connectorId: string, handle: (body: Buffer) => void): Promise<void>;
  /** Queues and exchanges declared so far (deleted by close). */
  declared(): { queues: string[]; exchanges: string[] };
  close(): Promise<void>;
}

export function createPlatformBroker(url: string, topo: PlatformTopology): PlatformBroker {
  let conn: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let pushChannel: Channel | undefined;
  const consuming = new Set<string>();
  const queues = new Set<string>();
  const exchanges = new Set<string>();

  async function ch(): Promise<ConfirmChannel> {
    if (channel) return channel;
    conn = await amqp.connect(url);
    conn.on('error', () => undefined);
    channel = await conn.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      channel = undefined;
    });
    return channel;
  }

  return {
    async declare(connector) {
      const c = await ch();
      const args = { name: connector.name, config: { id: connector.id, type: 'INTERNAL_ENRICHMENT', scope: connector.scope.join(',') }, 'x-queue-type': 'classic' };
      await c.assertExchange(topo.listenExchange, 'direct', { durable: true });
      await c.assertExchange(topo.pushExchange, 'direct', { durable: true });
      exchanges.add(topo.listenExchange).add(topo.pushExchange);
      for (const [queue, exchange, routing] of [
        [topo.listenQueue(connector.id), topo.listenExchange, topo.listenRouting(connector.id)],
        [topo.pushQueue(connector.id), topo.pushExchange, topo.pushRouting(connector.id)],
      ] as const) {
        await c.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false, arguments: args });
        await c.bindQueue(queue, exchange, routing);
        queues.add(queue);
      }
    },
    async publishListen(connectorId, body, options = {}) {
      const c = await ch();
      await new Promise<void>((resolve, reject) => {
        c.publish(topo.listenExchange, topo.listenRouting(connectorId), body, { persistent: true, deliveryMode: 2, contentType: 'application/json', ...options }, (err) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        );
      });
    },
    async consumePush(connectorId, handle) {
      if (consuming.has(connectorId)) return;
      consuming.add(connectorId);
      await ch();
      if (!pushChannel) {
        pushChannel = await (conn as ChannelModel).createChannel();
        pushChannel.on('error', () => undefined);
      }
      const c = pushChannel;
      await c.consume(topo.pushQueue(connectorId), (m) => {
        if (!m) return;
        try {
          handle(m.content);
        } finally {
          c.ack(m);
        }
      });
    },
    declared: () => ({ queues: [...queues], exchanges: [...exchanges] }),
    async close() {
      if (!conn) return;
      try {
        const c = await ch();
        for (const q of queues) await c.deleteQueue(q).catch(() => undefined);
        for (const e of exchanges) await c.deleteExchange(e).catch(() => undefined);
      } finally {
        await conn?.close().catch(() => undefined);
        conn = undefined;
        channel = undefined;
        pushChannel = undefined;
        consuming.clear();
      }
    },
  };
}
