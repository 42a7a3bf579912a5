import http from 'node:http';
import { Readable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { generateTechniques } from '../lib/generate-evidence';
import { nowMs, percentile, round } from '../lib/measure';
import { addBenchCoverages } from '../lib/platform-content';
import { createTraffic, type Phase, type PhaseKind } from './pipeline-tracker';

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
  /** Runs the connector made for these messages, re-triggered ones included (the platform at rest after the phase). */
  runs: number;
  completed: number;
  failed: number;
  seconds: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  platformCalls: number;
}

/** The runs of one kind and the calls they made. */
export interface RunKind {
  runs: number;
  calls: number;
  byOperation: Record<string, number>;
  /** Objects pushed (GraphQL or broker) by these runs. */
  pushedObjects: number;
}

export interface Captured {
  messages: string[];
  requests: string[];
  responses: string[];
  /** Messages published (each one starts a chain of runs). */
  enrichments: number;
  platformCalls: number;
  /** Every run of the chains: the ones that wrote (pushed or deleted) and the ones that wrote nothing. */
  write: RunKind;
  echo: RunKind;
}

let capturing: Captured | undefined;

const emptyKind = (): RunKind => ({ runs: 0, calls: 0, byOperation: {}, pushedObjects: 0 });

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
  /** Runs the platform re-triggered (its own enrichment requests, not the traffic's). */
  let retriggered = 0;
  // Where each re-triggered run starts in the call record (calls of a chain are attributed to its runs).
  const startedAt = new Map<string, number>();
  const publishEnrichment = fake.publishEnrichment.bind(fake);
  fake.publishEnrichment = async (...args) => {
    const at = fake.calls.length;
    const workId = await publishEnrichment(...args);
    retriggered += 1;
    if (capturing) startedAt.set(workId, at);
    else startedAt.clear();
    return workId;
  };
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

  /** Until no run is left: nothing imported, queued or re-triggered (the chains of every message have ended). */
  const atRest = (): Promise<void> => fake.settle(50, 600_000);

  /** Messages published from now until `stop`, and the runs they caused once the platform is at rest. */
  const runPhase = async (o: { messages?: number; ms?: number; outstanding: number; kind?: PhaseKind }): Promise<PhaseResult> => {
    const phase = traffic.newPhase(o.kind);
    const calls0 = traffic.platformCalls;
    const retriggered0 = retriggered;
    const t0 = nowMs();
    await closedLoop(phase, o.outstanding, () => (o.messages !== undefined && phase.published >= o.messages) || (o.ms !== undefined && nowMs() - t0 >= o.ms));
    const seconds = (nowMs() - t0) / 1000;
    await atRest();
    return {
      runs: phase.completed + retriggered - retriggered0,
      completed: phase.completed,
      failed: phase.failed,
      seconds: round(seconds, 2),
      rate: round(phase.completed / seconds, 1),
      p50Ms: round(percentile(phase.latenciesMs, 50), 1),
      p99Ms: round(percentile(phase.latenciesMs, 99), 1),
      platformCalls: traffic.platformCalls - calls0,
    };
  };

  /**
   * `messages` chains one after the other, each until the platform is at rest, so every call belongs
   * to one chain. Within a chain a call naming a work belongs to that work's run; a coverage read
   * belongs to the run started last before it (runs of one coverage are serialised by the connector).
   */
  const capture = async (messages: number, firstRun = false): Promise<Captured> => {
    await atRest();
    const kinds = { write: emptyKind(), echo: emptyKind() };
    capturing = { messages: [], requests: [], responses: [], enrichments: 0, platformCalls: 0, ...kinds };
    traffic.trimming = false;
    try {
      for (let i = 0; i < messages; i += 1) {
        const calls0 = fake.calls.length;
        const pushes0 = fake.state.pushes.length;
        const records0 = fake.enrichments.length;
        const phase = traffic.newPhase();
        const first = traffic.publishOne(phase, firstRun);
        while (phase.completed === 0) await traffic.nextCompletion();
        await atRest();
        const runs = [{ workId: first, at: calls0 }, ...fake.enrichments.slice(records0).map((e) => ({ workId: e.workId, at: startedAt.get(e.workId) ?? calls0 }))];
        const calls = fake.calls.slice(calls0);
        const ofRun = new Map<string, Array<{ operationName: string }>>(runs.map((r) => [r.workId, []]));
        calls.forEach((call, k) => {
          const named = [call.variables.id, call.variables.work_id].find((v): v is string => typeof v === 'string' && ofRun.has(v));
          const owner = named ?? [...runs].reverse().find((r) => r.at <= calls0 + k)?.workId ?? first;
          ofRun.get(owner)?.push(call);
        });
        const pushes = fake.state.pushes.slice(pushes0);
        for (const run of runs) {
          const own = ofRun.get(run.workId) ?? [];
          const pushed = pushes.filter((p) => p.workId === run.workId).reduce((a, p) => a + p.objects.length, 0);
          const wrote = pushed > 0 || own.some((c) => c.operationName === 'RelationshipDelete');
          const kind = wrote ? capturing.write : capturing.echo;
          kind.runs += 1;
          kind.calls += own.length;
          kind.pushedObjects += pushed;
          for (const c of own) kind.byOperation[c.operationName] = (kind.byOperation[c.operationName] ?? 0) + 1;
        }
        capturing.enrichments += 1;
        capturing.platformCalls += calls.length;
      }
      return capturing;
    } finally {
      capturing = undefined;
      traffic.trimming = true;
    }
  };

  process.on('message', (m: { cmd: string; n: number; messages?: number; ms?: number; outstanding?: number; firstRun?: boolean; kind?: PhaseKind }) => {
    void (async () => {
      try {
        if (m.cmd === 'phase') process.send?.({ n: m.n, value: await runPhase({ messages: m.messages, ms: m.ms, outstanding: m.outstanding ?? 1, ...(m.kind ? { kind: m.kind } : {}) }) });
        else if (m.cmd === 'settle') {
          await atRest();
          process.send?.({ n: m.n, value: true });
        } else if (m.cmd === 'capture') process.send?.({ n: m.n, value: await capture(m.messages ?? 10, m.firstRun === true) });
        else if (m.cmd === 'stop') {
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
