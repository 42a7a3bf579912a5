import { createServer } from 'node:http';
import amqp from 'amqplib';
import { Pool } from 'undici';

/**
 * The transport floor: the least a Node connector on amqplib and undici spends to move the same
 * texts as the real one — no assessment, no decisions, no history. Two roles, each its own process
 * (so the answering side's CPU is not counted):
 *   server — answers every POST with the platform's recorded answer to that operation;
 *   client — consumes the recorded enrichment messages from a queue (prefetch and concurrency as the
 *     connector's), parses each and the STIX texts it embeds, sends its share of the recorded request
 *     bodies one after another (serialised from their values, as a client builds them), reads and
 *     parses every answer, then acks.
 * Driven over IPC by bench/suites/enrichment.ts (see main below).
 */

export interface TransportFloorSpec {
  role: 'server' | 'client';
  /** server: recorded answer text per operation name. */
  answers?: Record<string, string>;
  /** client */
  amqpUrl?: string;
  queue?: string;
  url?: string;
  /** Every recorded request body, in order; message k of the recorded messages sends the k-th share. */
  requests?: string[];
  /** How many messages were recorded (the cycle the driver publishes them in). */
  messagesPerCycle?: number;
  concurrency?: number;
  prefetch?: number;
}

/** The operation name a GraphQL request body names (`query X` / `mutation X`). */
export function operationOf(body: string): string {
  return /\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(body)?.[1] ?? 'anonymous';
}

function serve(spec: TransportFloorSpec): Promise<string> {
  const answers = spec.answers ?? {};
  const fallback = JSON.stringify({ data: {} });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = answers[operationOf(Buffer.concat(chunks).toString('utf8'))] ?? fallback;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}

async function consume(spec: TransportFloorSpec): Promise<{ cpu(): { cpuMs: number; done: number }; close(): Promise<void> }> {
  const requests = (spec.requests ?? []).map((text) => JSON.parse(text) as unknown);
  const cycle = Math.max(1, spec.messagesPerCycle ?? 1);
  const pool = new Pool(String(spec.url), { connections: spec.concurrency ?? 4 });
  const conn = await amqp.connect(String(spec.amqpUrl));
  const channel = await conn.createChannel();
  await channel.assertQueue(String(spec.queue), { durable: false });
  await channel.prefetch(spec.prefetch ?? 10);
  let done = 0;
  let running = 0;
  const waiting: amqp.ConsumeMessage[] = [];

  const call = async (value: unknown): Promise<void> => {
    const res = await pool.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer floor' }, body: JSON.stringify(value) });
    JSON.parse(await res.body.text());
  };
  const handle = async (m: amqp.ConsumeMessage, index: number): Promise<void> => {
    const message = JSON.parse(m.content.toString('utf8')) as { event?: { stix_entity?: string; stix_objects?: string } };
    if (typeof message.event?.stix_entity === 'string') JSON.parse(message.event.stix_entity);
    if (typeof message.event?.stix_objects === 'string') JSON.parse(message.event.stix_objects);
    // Message k of the cycle sends the k-th share of the recorded calls (the same total per cycle).
    const k = index % cycle;
    const from = Math.floor((k * requests.length) / cycle);
    const to = Math.floor(((k + 1) * requests.length) / cycle);
    for (let i = from; i < to; i += 1) await call(requests[i]);
    channel.ack(m);
    done += 1;
  };
  let received = 0;
  const next = (): void => {
    while (running < (spec.concurrency ?? 4) && waiting.length > 0) {
      const m = waiting.shift() as amqp.ConsumeMessage;
      running += 1;
      void handle(m, received++).finally(() => {
        running -= 1;
        next();
      });
    }
  };
  await channel.consume(String(spec.queue), (m) => {
    if (!m) return;
    waiting.push(m);
    next();
  });
  return {
    cpu: () => {
      const c = process.cpuUsage();
      return { cpuMs: (c.user + c.system) / 1000, done };
    },
    close: async () => {
      await conn.close().catch(() => undefined);
      await pool.close().catch(() => undefined);
    },
  };
}

/**
 * The spec comes over IPC ({cmd:'configure', spec}: the recorded texts exceed what an environment
 * variable may hold); then {cmd:'cpu'} → CPU ms so far and messages done, {cmd:'stop'}.
 */
function main(): void {
  let client: Awaited<ReturnType<typeof consume>> | undefined;
  const reply = (n: number | undefined, value: unknown): void => void process.send?.({ n, value });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { cmd?: string; n?: number; spec?: TransportFloorSpec }) => {
    if (m.cmd === 'configure' && m.spec) {
      const spec = m.spec;
      const started = spec.role === 'server' ? serve(spec).then((url) => ({ url })) : consume(spec).then((c) => ((client = c), { consuming: true }));
      started.then(
        (value) => reply(m.n, value),
        (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }),
      );
    }
    if (m.cmd === 'cpu' && client) reply(m.n, client.cpu());
    if (m.cmd === 'stop') void (client?.close() ?? Promise.resolve()).then(() => process.send?.({ stopped: true }, () => process.exit(0)));
  });
  process.send?.({ spawned: true });
}

// Imported by the driver for operationOf: only run as a forked process.
if (require.main === module) main();
