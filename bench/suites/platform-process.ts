import http from 'node:http';
import { Readable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { generateTechniques } from '../lib/generate-evidence';
import { nowMs, percentile, round } from '../lib/measure';
import { addBenchCoverages } from '../lib/platform-content';
import { createTraffic, type Phase } from './pipeline-tracker';

/**
 * The stand-in platform (test/support/fake-opencti) in its OWN process, so that its CPU — GraphQL
 * parsing and validation, resolvers, imports — is never counted as the connector's. It also drives
 * the traffic (publishes enrichment messages, sees each work reported processed) and, on request,
 * records the exact JSON texts exchanged with the connector for the JSON floor. Driven over IPC by
 * bench/suites/enrichment.ts.
 */

export interface PlatformSpec {
  amqpUrl: string;
  seed: number;
  pool: number;
  patterns: number;
}

export interface PhaseResult {
  completed: number;
  failed: number;
  seconds: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  platformCalls: number;
}

export interface Captured {
  messages: string[];
  requests: string[];
  responses: string[];
  enrichments: number;
  platformCalls: number;
}

let capturing: Captured | undefined;

/** Every request body the platform receives and every response it sends, while capturing. */
function recordHttpBodies(): void {
  const create = http.createServer.bind(http) as (listener: http.RequestListener) => http.Server;
  (http as { createServer: unknown }).createServer = (listener: http.RequestListener) =>
    create((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (capturing) capturing.requests.push(body.toString('utf8'));
        // The platform's handler reads the body it would have read.
        const replay = Object.assign(Readable.from([body]), { headers: req.headers, socket: req.socket, method: req.method, url: req.url });
        const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
        (res as { end: unknown }).end = (...args: unknown[]) => {
          if (capturing && (typeof args[0] === 'string' || Buffer.isBuffer(args[0]))) capturing.responses.push(String(args[0]));
          return end(...args);
        };
        listener(replay as unknown as http.IncomingMessage, res);
      });
    });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_PLATFORM ?? '{}') as PlatformSpec;
  recordHttpBodies();
  // test/support/env.ts (imported by the stand-in) builds jest describe() helpers when loaded.
  const g = globalThis as Record<string, unknown>;
  g.describe ??= Object.assign(() => undefined, { skip: () => undefined, only: () => undefined });
  g.it ??= Object.assign(() => undefined, { skip: () => undefined });
  const { startFakeOpenCti } = await import('../../test/support/fake-opencti/server');
  const fake = await startFakeOpenCti({ amqpUrl: spec.amqpUrl, maxPageSize: 500, importDelayMs: 0 });
  const connectorId = uuidv4();
  const pool = addBenchCoverages(fake.state, { seed: spec.seed + 7, count: spec.pool, patterns: spec.patterns, catalogue: generateTechniques(spec.seed) });
  const traffic = createTraffic(fake, connectorId, pool);
  const publish = fake.broker.publishListen.bind(fake.broker);
  fake.broker.publishListen = (id, body, options) => {
    capturing?.messages.push(body.toString('utf8'));
    return publish(id, body, options);
  };

  /** Keeps `outstanding` messages published until `stop()`, then waits for all of them. */
  const closedLoop = async (phase: Phase, outstanding: number, stop: () => boolean): Promise<void> => {
    while (!stop()) {
      while (traffic.outstanding < outstanding && !stop()) traffic.publishOne(phase);
      await traffic.nextCompletion();
    }
    await traffic.drain(120_000);
  };

  const runPhase = async (o: { messages?: number; ms?: number; outstanding: number }): Promise<PhaseResult> => {
    const phase = traffic.newPhase();
    const calls0 = traffic.platformCalls;
    const t0 = nowMs();
    await closedLoop(phase, o.outstanding, () => (o.messages !== undefined && phase.published >= o.messages) || (o.ms !== undefined && nowMs() - t0 >= o.ms));
    const seconds = (nowMs() - t0) / 1000;
    return {
      completed: phase.completed,
      failed: phase.failed,
      seconds: round(seconds, 2),
      rate: round(phase.completed / seconds, 1),
      p50Ms: round(percentile(phase.latenciesMs, 50), 1),
      p99Ms: round(percentile(phase.latenciesMs, 99), 1),
      platformCalls: traffic.platformCalls - calls0,
    };
  };

  process.on('message', (m: { cmd: string; n: number; messages?: number; ms?: number; outstanding?: number }) => {
    void (async () => {
      try {
        if (m.cmd === 'phase') process.send?.({ n: m.n, value: await runPhase({ messages: m.messages, ms: m.ms, outstanding: m.outstanding ?? 1 }) });
        else if (m.cmd === 'capture') {
          capturing = { messages: [], requests: [], responses: [], enrichments: 0, platformCalls: 0 };
          // One at a time: every platform call in the phase belongs to one of these enrichments.
          const r = await runPhase({ messages: m.messages, outstanding: 1 });
          const got = capturing;
          capturing = undefined;
          process.send?.({ n: m.n, value: { ...got, enrichments: r.completed, platformCalls: r.platformCalls } });
        } else if (m.cmd === 'stop') {
          await fake.close().catch(() => undefined);
          process.send?.({ n: m.n, value: true }, () => process.exit(0));
        }
      } catch (err) {
        process.send?.({ n: m.n, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: { url: fake.url, token: fake.token, connectorId } });
}

main().catch((err: unknown) => {
  process.send?.({ failed: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
