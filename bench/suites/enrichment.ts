import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import { figure, missingFigure, type Figure, type SuiteOptions } from '../lib/figures';
import { delay, nowMs, percentile, round, withTimeout, type MemorySample } from '../lib/measure';
import type { DaemonSpec } from './daemon-process';
import type { Captured, PhaseResult, PlatformSpec } from './platform-process';

/**
 * Enrichment cost — the REAL connector (src/app/main.ts startDaemon, its own process, 3,000 generated
 * rules) against the stand-in platform (its own process: bench/suites/platform-process.ts) and the
 * real broker. Each message carries a coverage over a report of 50 attack patterns; the connector
 * resolves them, assesses them, pushes the result and acks.
 *   platform calls — HTTP calls the platform received per enrichment, one enrichment at a time;
 *   JSON floor — parsing every JSON text the connector received for one enrichment (message body,
 *     platform responses) and serialising every one it sent (request bodies), timed here on the
 *     exact texts recorded in the same run: the least any connector must spend;
 *   CPU — the connector process's CPU (user + system, all threads) per enrichment over a phase with
 *     a standing backlog; the platform's CPU is in the other process and not counted.
 *   memory — heap after a forced GC in the connector, after warm-up and after N more messages.
 */

export const RULES = 3000;
const PATTERNS = 50;

interface Handle {
  child: ChildProcess;
  ask<T>(message: Record<string, unknown>, key: string, ms: number): Promise<T>;
  stop(): Promise<void>;
}

function spawnProcess(file: string, env: Record<string, string>, execArgv: string[], readyKey: string): Promise<{ handle: Handle; ready: unknown }> {
  const ts = file.endsWith('.ts');
  const child = fork(file, [], {
    execArgv: [...execArgv, ...(ts ? ['-r', 'ts-node/register/transpile-only'] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let n = 0;
  const next = <T>(match: (m: Record<string, unknown>) => T | undefined, ms: number, what: string): Promise<T> =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        const onMessage = (m: Record<string, unknown>): void => {
          if (m.error || m.failed) {
            child.off('message', onMessage);
            reject(new Error(`${what}: ${String(m.error ?? m.failed)}`));
            return;
          }
          const v = match(m);
          if (v !== undefined) {
            child.off('message', onMessage);
            resolve(v);
          }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`${what}: process exited (${code})`)));
      }),
      ms,
      what,
    );
  const handle: Handle = {
    child,
    ask<T>(message: Record<string, unknown>, key: string, ms: number) {
      n += 1;
      const id = n;
      const reply = next<T>((m) => (key === 'value' ? (m.n === id ? (m.value as T) : undefined) : key in m ? (m[key] as T) : undefined), ms, `${file} ${String(message.cmd)}`);
      child.send({ ...message, n: id });
      return reply;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ cmd: 'stop', n: 0 });
      await Promise.race([exited, delay(20_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  return next((m) => (readyKey in m ? m[readyKey] : undefined), 90_000, `${file} start`).then((ready) => ({ handle, ready }));
}

/** Median time (ms) to parse every received text and serialise every sent one, per enrichment. */
export function jsonFloorMs(captured: Captured, reps = 25): number {
  const received = [...captured.messages, ...captured.responses];
  const sent = captured.requests.map((r) => JSON.parse(r) as unknown);
  const times: number[] = [];
  for (let r = 0; r < reps + 5; r += 1) {
    const t = nowMs();
    for (const text of received) JSON.parse(text);
    for (const value of sent) JSON.stringify(value);
    if (r >= 5) times.push(nowMs() - t);
  }
  return percentile(times, 50) / Math.max(1, captured.enrichments);
}

export async function runEnrichment(options: SuiteOptions): Promise<Figure[]> {
  const q = options.quick;
  const settings = {
    warmup: q ? 60 : 300,
    capture: q ? 10 : 40,
    cpuMessages: q ? 200 : 800,
    memoryMessages: q ? 400 : 100_000,
    memoryCapMs: q ? 15_000 : Number(process.env.BENCH_MEMORY_CAP_S ?? 90) * 1000,
  };
  const outstanding = 40;
  const dir = __dirname;
  const ext = __filename.endsWith('.ts') ? '.ts' : '.js';
  const platformSpec: PlatformSpec = { amqpUrl: options.amqpUrl, seed: options.seed, pool: outstanding + 20, patterns: PATTERNS };
  const { handle: platform, ready } = await spawnProcess(join(dir, `platform-process${ext}`), { BENCH_PLATFORM: JSON.stringify(platformSpec) }, [], 'ready');
  const { url, token, connectorId } = ready as { url: string; token: string; connectorId: string };
  let daemon: Handle | undefined;
  const figures: Figure[] = [];
  const add = (f: Figure): void => {
    figures.push(f);
    options.report(f);
  };
  try {
    const spec: DaemonSpec = {
      seed: options.seed,
      rules: RULES,
      config: {
        opencti: { url, token },
        connector: { id: connectorId, name: 'Coverage bench', log_level: (process.env.BENCH_LOG_LEVEL ?? 'info') as 'info' },
        worker: { concurrency: 4, prefetch: 10, backoff_base_ms: 50, backoff_max_ms: 500, shutdown_grace_ms: 5000 },
        http: { enabled: false },
        scheduler: { enabled: false },
      },
    };
    daemon = (await spawnProcess(join(dir, `daemon-process${ext}`), { BENCH_DAEMON: JSON.stringify(spec) }, ['--expose-gc', ...options.profileArgs], 'ready')).handle;
    const phase = (o: { messages?: number; ms?: number; outstanding: number }) => platform.ask<PhaseResult>({ cmd: 'phase', ...o }, 'value', 600_000);
    const cpu = () => (daemon as Handle).ask<number>({ cmd: 'cpu' }, 'cpu', 30_000);
    const memory = () => (daemon as Handle).ask<MemorySample>({ cmd: 'memory' }, 'memory', 30_000);

    const warm = await phase({ messages: settings.warmup, outstanding });
    options.log(`warm-up: ${warm.completed} enrichments, ${warm.failed} failed`);

    const captured = await platform.ask<Captured>({ cmd: 'capture', messages: settings.capture }, 'value', 300_000);
    const calls = captured.platformCalls / Math.max(1, captured.enrichments);
    const floor = jsonFloorMs(captured);
    const bytesIn = [...captured.messages, ...captured.responses].reduce((a, t) => a + Buffer.byteLength(t), 0) / Math.max(1, captured.enrichments);
    const bytesOut = captured.requests.reduce((a, t) => a + Buffer.byteLength(t), 0) / Math.max(1, captured.enrichments);

    // Which calls: what the protocol minimum is compared with.
    const byOperation = new Map<string, number>();
    for (const r of captured.requests) {
      let name = 'unparsable';
      try {
        const body = JSON.parse(r) as { operationName?: string; query?: string };
        name = body.operationName ?? /\b(?:query|mutation)\s+(\w+)/.exec(body.query ?? '')?.[1] ?? 'anonymous';
      } catch {
        // counted as unparsable
      }
      byOperation.set(name, (byOperation.get(name) ?? 0) + 1);
    }
    const perEnrichment = [...byOperation].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ×${round(n / Math.max(1, captured.enrichments), 1)}`).join(', ');

    const cpu0 = await cpu();
    const run = await phase({ messages: settings.cpuMessages, outstanding });
    const cpuMs = ((await cpu()) - cpu0) / Math.max(1, run.completed);
    options.log(`enrichment: ${round(cpuMs, 2)} ms CPU each (${run.completed} at ${run.rate}/s), JSON floor ${round(floor, 3)} ms, ${round(calls, 2)} platform calls each`);
    add(
      figure(
        'enrichment',
        'cpu_ms',
        {
          cpu_ms: round(cpuMs, 2),
          json_floor_ms: round(floor, 3),
          cpu_to_json_floor: round(cpuMs / floor, 1),
          platform_calls: round(calls, 2),
          json_in_kib: round(bytesIn / 1024, 1),
          json_out_kib: round(bytesOut / 1024, 1),
          enrichments_per_s: run.rate,
          latency_p50_ms: run.p50Ms,
          latency_p99_ms: run.p99Ms,
          enrichments: run.completed,
          failed: run.failed + captured.enrichments - settings.capture,
        },
        cpuMs <= 3 * floor && calls <= 2,
        `platform calls per enrichment: ${perEnrichment}; worker.concurrency 4, prefetch 10, push_mode graphql, log level info to a discarded stdout, ${RULES} rules, ${PATTERNS} attack patterns per report; calls and JSON texts recorded over ${captured.enrichments} enrichments run one at a time; CPU over ${run.completed} with ${outstanding} kept on the queue (enrichments_per_s and latency include the stand-in platform on the same 2 cores: context only)`,
      ),
    );

    if (!options.wanted.includes('memory')) return figures;
    const t7 = nowMs();
    const base = await memory();
    let done = 0;
    const samples: Array<{ at: number; heapUsedMb: number }> = [{ at: 0, heapUsedMb: base.heapUsedMb }];
    const slice = Math.max(100, Math.floor(settings.memoryMessages / 10));
    while (done < settings.memoryMessages && nowMs() - t7 < settings.memoryCapMs) {
      const r = await phase({ messages: slice, ms: Math.max(1000, settings.memoryCapMs - (nowMs() - t7)), outstanding });
      done += r.completed;
      samples.push({ at: done, heapUsedMb: (await memory()).heapUsedMb });
    }
    const end = await memory();
    const growth = round(((end.heapUsedMb - base.heapUsedMb) / base.heapUsedMb) * 100);
    const capped = done < settings.memoryMessages;
    add(
      figure(
        'memory',
        'heap_growth_pct',
        { heap_growth_pct: growth, heap_after_warmup_mb: base.heapUsedMb, heap_end_mb: end.heapUsedMb, rss_after_warmup_mb: base.rssMb, rss_end_mb: end.rssMb, enrichments: done },
        capped ? null : growth <= 10,
        `heap after a forced GC in the connector process; samples (enrichments:heap MB) ${samples.map((s) => `${s.at}:${s.heapUsedMb}`).join(' ')}${capped ? `; time cap of ${settings.memoryCapMs / 1000} s reached before ${settings.memoryMessages} (target not judged; BENCH_MEMORY_CAP_S raises it)` : ''}`,
      ),
    );
    return figures;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    options.log(`error: ${message}`);
    for (const id of ['enrichment', 'memory'] as const) if (!figures.some((f) => f.id === id)) figures.push(missingFigure(id, `error: ${message}`, 'error'));
    return figures;
  } finally {
    await daemon?.stop().catch(() => undefined);
    await platform.stop().catch(() => undefined);
    try {
      const conn = await amqp.connect(options.amqpUrl);
      const ch = await conn.createChannel();
      await ch.deleteQueue(`listen_${connectorId}.dlq`).catch(() => undefined);
      await conn.close();
    } catch {
      // the broker went away: nothing else to clean
    }
  }
}
