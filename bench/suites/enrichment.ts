import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { figure, missingFigure, type Figure, type SuiteOptions } from '../lib/figures';
import { delay, nowMs, percentile, round, withTimeout, type MemorySample } from '../lib/measure';
import type { DaemonSpec } from './daemon-process';
import type { Captured, PhaseResult, PlatformSpec, RunKind } from './platform-process';
import { operationOf, type TransportFloorSpec } from './transport-floor-process';

/**
 * Enrichment cost — the REAL connector (src/app/main.ts startDaemon, its own process, 3,000 generated
 * rules) against the stand-in platform (its own process: bench/suites/platform-process.ts) and the
 * real broker. Each message carries a coverage over a report of 50 attack patterns; the connector
 * resolves them, assesses them, pushes the result and acks.
 *   platform calls — HTTP calls the platform received per enrichment, one enrichment at a time;
 *   JSON floor — parsing every JSON text the connector received for one enrichment (message body, the
 *     STIX texts it embeds, platform responses) and serialising every one it sent (request bodies),
 *     timed here on the exact texts recorded in the same run: the least any connector must spend;
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
            stopListening();
            reject(new Error(`${what}: ${String(m.error ?? m.failed)}`));
            return;
          }
          const v = match(m);
          if (v !== undefined) {
            stopListening();
            resolve(v);
          }
        };
        const onExit = (code: number | null): void => {
          stopListening();
          reject(new Error(`${what}: process exited (${code})`));
        };
        // Both listeners go once the answer (or the exit) is in: asks must not pile up listeners.
        const stopListening = (): void => {
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
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

/** Calls per run of each kind (write: pushed or deleted; echo: wrote nothing) and runs per message. */
function callFigures(prefix: string, c: Captured): Record<string, number | null> {
  const per = (n: number, d: number): number | null => (d > 0 ? round(n / d, 2) : null);
  return {
    [`${prefix}write_run_calls`]: per(c.write.calls, c.write.runs),
    [`${prefix}write_run_pushed_objects`]: per(c.write.pushedObjects, c.write.runs),
    [`${prefix}echo_run_calls`]: per(c.echo.calls, c.echo.runs),
    [`${prefix}runs_per_message`]: per(c.write.runs + c.echo.runs, c.enrichments),
    [`${prefix}calls_per_message`]: per(c.platformCalls, c.enrichments),
  };
}

/** The write run of a coverage's first assessment (every object to push). */
function firstRunFigures(prefix: string, c: Captured): Record<string, number | null> {
  const per = (n: number, d: number): number | null => (d > 0 ? round(n / d, 1) : null);
  return { [`${prefix}first_write_run_calls`]: per(c.write.calls, c.write.runs), [`${prefix}first_write_run_pushed_objects`]: per(c.write.pushedObjects, c.write.runs) };
}

function describeKind(k: RunKind): string {
  if (k.runs === 0) return 'none';
  const ops = Object.entries(k.byOperation)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ×${round(n / k.runs, 1)}`)
    .join(', ');
  return `${round(k.calls / k.runs, 1)} calls (${ops}; ${round(k.pushedObjects / k.runs, 1)} object(s) pushed) × ${k.runs}`;
}

/**
 * Median time (ms) to parse every received JSON text and serialise every sent one, per enrichment. The
 * platform's message carries `stix_entity` and `stix_objects` as JSON texts inside its JSON: parsing
 * them is part of the least any connector must do, so they count as received texts.
 */
export function jsonFloorMs(captured: Captured, reps = 25): number {
  const received = [...captured.messages, ...embeddedTexts(captured.messages), ...captured.responses];
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

/** The JSON texts a platform message embeds (`event.stix_entity`, `event.stix_objects`). */
function embeddedTexts(messages: string[]): string[] {
  return messages.flatMap((text) => {
    const event = (JSON.parse(text) as { event?: Record<string, unknown> }).event ?? {};
    return [event.stix_entity, event.stix_objects].filter((v): v is string => typeof v === 'string');
  });
}

/**
 * CPU per chain of a bare amqplib + undici client moving the recorded texts (bench/suites/
 * transport-floor-process.ts): the recorded messages of the chains, each parsed with its STIX texts,
 * the recorded calls sent and their answers parsed, one ack per message, at the connector's
 * concurrency and prefetch. What is left above it is the connector's own work.
 */
async function transportFloorMs(options: SuiteOptions, captured: Captured, file: string, messages: number): Promise<number> {
  const answers: Record<string, string> = {};
  captured.requests.forEach((text, i) => {
    if (captured.responses[i] !== undefined) answers[operationOf(text)] ??= captured.responses[i];
  });
  const queue = `bench_transport_floor_${process.pid}`;
  const launch = async (spec: TransportFloorSpec): Promise<{ handle: Handle; value: Record<string, unknown> }> => {
    const { handle } = await spawnProcess(file, {}, [], 'spawned');
    return { handle, value: await handle.ask<Record<string, unknown>>({ cmd: 'configure', spec }, 'value', 60_000) };
  };
  const server = await launch({ role: 'server', answers });
  let client: Handle | undefined;
  const conn = await amqp.connect(options.amqpUrl);
  try {
    const channel = await conn.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false });
    const url = String(server.value.url);
    const spec: TransportFloorSpec = { role: 'client', amqpUrl: options.amqpUrl, queue, url, requests: captured.requests, messagesPerCycle: captured.messages.length, concurrency: 4, prefetch: 10 };
    client = (await launch(spec)).handle;
    const bodies = captured.messages.map((text) => Buffer.from(text, 'utf8'));
    let published = 0;
    const publish = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i += 1) channel.sendToQueue(queue, bodies[published++ % bodies.length]);
      await channel.waitForConfirms();
    };
    const cpu = () => (client as Handle).ask<{ cpuMs: number; done: number }>({ cmd: 'cpu' }, 'value', 30_000);
    const until = async (n: number): Promise<{ cpuMs: number; done: number }> => {
      const deadline = nowMs() + 120_000;
      for (;;) {
        const c = await cpu();
        if (c.done >= n) return c;
        if (nowMs() > deadline) throw new Error(`transport floor: ${c.done} of ${n} messages handled in 120 s`);
        await delay(20);
      }
    };
    // Warm-up a whole number of capture cycles, so message k of a chain stays message k.
    const cycle = bodies.length;
    const warm = cycle * Math.max(1, Math.ceil(100 / cycle));
    await publish(warm);
    const start = await until(warm);
    const measured = cycle * Math.max(1, Math.ceil(messages / cycle));
    await publish(measured);
    const end = await until(warm + measured);
    const chains = (measured / captured.messages.length) * captured.enrichments;
    await channel.deleteQueue(queue).catch(() => undefined);
    return (end.cpuMs - start.cpuMs) / chains;
  } finally {
    await client?.stop().catch(() => undefined);
    await server.handle.stop().catch(() => undefined);
    await conn.close().catch(() => undefined);
  }
}

export async function runEnrichment(options: SuiteOptions): Promise<Figure[]> {
  const q = options.quick;
  const settings = {
    // At least once over the pool: every has-covered exists, the measured runs rewrite the coverage only.
    warmup: q ? 160 : 320,
    capture: q ? 10 : 40,
    cpuMessages: q ? 200 : 800,
    memoryMessages: q ? 400 : 100_000,
    memoryCapMs: q ? 15_000 : Number(process.env.BENCH_MEMORY_CAP_S ?? 90) * 1000,
  };
  const outstanding = 40;
  // Enough coverages that a coverage's chain (its run, then the re-triggered one queued behind up to
  // twice `outstanding` runs) ends before its next message: every message then costs its own chain.
  const POOL = outstanding * 4;
  mkdirSync(options.tmpDir, { recursive: true });
  const dir = __dirname;
  const ext = __filename.endsWith('.ts') ? '.ts' : '.js';
  const platformSpec: PlatformSpec = { amqpUrl: options.amqpUrl, seed: options.seed, pool: POOL, patterns: PATTERNS };
  const { handle: platform, ready } = await spawnProcess(join(dir, `platform-process${ext}`), { BENCH_PLATFORM: JSON.stringify(platformSpec) }, [], 'ready');
  const { url, token, connectorId } = ready as { url: string; token: string; connectorId: string };
  let daemon: Handle | undefined;
  const figures: Figure[] = [];
  const add = (f: Figure): void => {
    figures.push(f);
    options.report(f);
  };
  try {
    const daemonSpec = (pushMode: 'graphql' | 'amqp'): DaemonSpec => ({
      seed: options.seed,
      rules: RULES,
      config: {
        opencti: { url, token },
        connector: { id: connectorId, name: 'Coverage bench', log_level: (process.env.BENCH_LOG_LEVEL ?? 'info') as 'info' },
        worker: { concurrency: 4, prefetch: 10, backoff_base_ms: 50, backoff_max_ms: 500, shutdown_grace_ms: 5000, push_mode: pushMode },
        http: { enabled: false },
        scheduler: { enabled: false },
        // Each connector process its own history file (the default lands in the working directory).
        // BENCH_NO_HISTORY=1: without the score history, to read its share by difference.
        history: { enabled: process.env.BENCH_NO_HISTORY !== '1', sqlite_path: join(options.tmpDir, `history-${pushMode}.db`) },
      },
    });
    const startConnector = async (pushMode: 'graphql' | 'amqp'): Promise<Handle> =>
      (await spawnProcess(join(dir, `daemon-process${ext}`), { BENCH_DAEMON: JSON.stringify(daemonSpec(pushMode)) }, ['--expose-gc'], 'ready')).handle;
    daemon = await startConnector('graphql');
    const phase = (o: { messages?: number; ms?: number; outstanding: number; kind?: 'rescore' | 'scheduled' }) => platform.ask<PhaseResult>({ cmd: 'phase', ...o }, 'value', 600_000);
    const settle = () => platform.ask<boolean>({ cmd: 'settle' }, 'value', 180_000);
    const capture = (messages: number, firstRun = false) => platform.ask<Captured>({ cmd: 'capture', messages, firstRun }, 'value', 300_000);
    const cpu = () => (daemon as Handle).ask<number>({ cmd: 'cpu' }, 'cpu', 30_000);
    // The kernel's share (socket writes and reads: HTTP calls, broker frames), beside the total.
    const cpuSystem = () => (daemon as Handle).ask<number>({ cmd: 'cpu' }, 'cpuSystem', 30_000);
    const memory = () => (daemon as Handle).ask<MemorySample>({ cmd: 'memory' }, 'memory', 30_000);

    const warm = await phase({ messages: settings.warmup, outstanding });
    options.log(`warm-up: ${warm.completed} enrichments, ${warm.failed} failed`);

    const captured = await capture(settings.capture);
    // A coverage's first assessment: every has-covered, the note and the coverage to write.
    const firstRun = await capture(3, true);
    const chains = Math.max(1, captured.enrichments);
    const floor = jsonFloorMs(captured);
    const bytesIn = [...captured.messages, ...embeddedTexts(captured.messages), ...captured.responses].reduce((a, t) => a + Buffer.byteLength(t), 0) / chains;
    const bytesOut = captured.requests.reduce((a, t) => a + Buffer.byteLength(t), 0) / chains;

    // CPU over whole chains: the platform at rest before and after, so every run the phase's messages
    // caused (the re-triggered ones too) is counted, and none of an earlier phase.
    await settle();
    // --profile: a profile of this phase alone (no start-up, no warm-up), beside the others.
    const profileDir = options.profileArgs[options.profileArgs.indexOf('--cpu-prof-dir') + 1];
    if (profileDir) await (daemon as Handle).ask({ cmd: 'profile-start' }, 'profiling', 30_000);
    const cpu0 = await cpu();
    const system0 = await cpuSystem();
    const run = await phase({ messages: settings.cpuMessages, outstanding });
    const cpuMs = ((await cpu()) - cpu0) / Math.max(1, run.completed);
    const systemMs = ((await cpuSystem()) - system0) / Math.max(1, run.completed);
    if (profileDir) {
      const file = join(profileDir, `enrichment-cpu-phase-${Date.now()}.cpuprofile`);
      await (daemon as Handle).ask({ cmd: 'profile-stop', file }, 'profiled', 60_000);
      options.log(`profile of the CPU phase: ${file} (npx ts-node --transpile-only bench/profile-summary.ts ${file})`);
    }

    // The scheduler's chains (validity lapsed, rules and content unchanged: the commonest run in a
    // deployment), on the same coverages: context beside the headline figure.
    await settle();
    if (profileDir) await (daemon as Handle).ask({ cmd: 'profile-start' }, 'profiling', 30_000);
    const scheduledCpu0 = await cpu();
    const scheduled = await phase({ messages: Math.floor(settings.cpuMessages / 2), outstanding, kind: 'scheduled' });
    const scheduledCpuMs = ((await cpu()) - scheduledCpu0) / Math.max(1, scheduled.completed);
    if (profileDir) {
      const file = join(profileDir, `enrichment-scheduled-phase-${Date.now()}.cpuprofile`);
      await (daemon as Handle).ask({ cmd: 'profile-stop', file }, 'profiled', 60_000);
      options.log(`profile of the scheduled phase: ${file}`);
    }
    options.log(`scheduled chains: ${round(scheduledCpuMs, 2)} ms CPU each (${scheduled.completed} messages, ${scheduled.runs} runs, ${scheduled.failed} failed)`);

    // The same chains' texts moved by a bare client (no connector logic), while the connector idles.
    let transportFloor: number | null = null;
    try {
      transportFloor = await transportFloorMs(options, captured, join(dir, `transport-floor-process${ext}`), settings.cpuMessages);
      options.log(`transport floor: ${round(transportFloor, 2)} ms CPU per chain (bare amqplib + undici client, same texts)`);
    } catch (err) {
      options.log(`transport floor not measured: ${err instanceof Error ? err.message : String(err)}`);
    }

    const graphql = callFigures('', captured);
    const calls = graphql.write_run_calls ?? captured.platformCalls / chains;
    options.log(
      `enrichment: ${round(cpuMs, 2)} ms CPU each (${run.completed} messages, ${run.runs} runs, at ${run.rate}/s), JSON floor ${round(floor, 3)} ms; ` +
        `push_mode graphql: write run ${describeKind(captured.write)}; echo run ${describeKind(captured.echo)}; first assessment's write run ${describeKind(firstRun.write)}`,
    );

    let memoryFigure: Figure | undefined;
    if (options.wanted.includes('memory')) {
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
    memoryFigure = figure(
        'memory',
        'heap_growth_pct',
        { heap_growth_pct: growth, heap_after_warmup_mb: base.heapUsedMb, heap_end_mb: end.heapUsedMb, rss_after_warmup_mb: base.rssMb, rss_end_mb: end.rssMb, enrichments: done },
        capped ? null : growth <= 10,
        `heap after a forced GC in the connector process; samples (enrichments:heap MB) ${samples.map((s) => `${s.at}:${s.heapUsedMb}`).join(' ')}${capped ? `; time cap of ${settings.memoryCapMs / 1000} s reached before ${settings.memoryMessages} (target not judged; BENCH_MEMORY_CAP_S raises it)` : ''}`,
      );
    }
    // The same chains with the broker push (another connector process on the same connector id).
    let amqpFigures: Record<string, number | null> = {};
    let amqpNote = '';
    try {
      await (daemon as Handle).stop();
      daemon = await startConnector('amqp');
      await phase({ messages: 10, outstanding: 4 });
      const amqpCaptured = await capture(Math.max(5, Math.floor(settings.capture / 2)));
      const amqpFirst = await capture(3, true);
      amqpFigures = { ...callFigures('amqp_', amqpCaptured), ...firstRunFigures('amqp_', amqpFirst) };
      const amqpText = `write run ${describeKind(amqpCaptured.write)}; echo run ${describeKind(amqpCaptured.echo)}; first assessment's write run ${describeKind(amqpFirst.write)}`;
      amqpNote = `; push_mode amqp (HTTP calls only; pushes are broker messages): ${amqpText}`;
      options.log(`push_mode amqp: ${amqpText}`);
    } catch (err) {
      amqpNote = `; push_mode amqp not measured: ${err instanceof Error ? err.message : String(err)}`;
    }
    add(
      figure(
        'enrichment',
        'cpu_ms',
        {
          cpu_ms: round(cpuMs, 2),
          cpu_system_ms: round(systemMs, 2),
          json_floor_ms: round(floor, 3),
          cpu_to_json_floor: round(cpuMs / floor, 1),
          transport_floor_ms: transportFloor === null ? null : round(transportFloor, 2),
          cpu_to_transport_floor: transportFloor === null ? null : round(cpuMs / transportFloor, 1),
          transport_floor_to_json_floor: transportFloor === null ? null : round(transportFloor / floor, 1),
          platform_calls: round(calls, 2),
          ...graphql,
          ...firstRunFigures('', firstRun),
          ...amqpFigures,
          runs_per_message_cpu_phase: round(run.runs / Math.max(1, run.completed), 2),
          cpu_ms_scheduled: round(scheduledCpuMs, 2),
          runs_per_message_scheduled: round(scheduled.runs / Math.max(1, scheduled.completed), 2),
          json_in_kib: round(bytesIn / 1024, 1),
          json_out_kib: round(bytesOut / 1024, 1),
          enrichments_per_s: run.rate,
          latency_p50_ms: run.p50Ms,
          latency_p99_ms: run.p99Ms,
          enrichments: run.completed,
          failed: run.failed,
        },
        cpuMs <= 3 * floor && calls <= 2,
        `platform_calls = HTTP calls of the run that writes (push_mode graphql, ${round(graphql.write_run_pushed_objects ?? 0, 1)} object(s) pushed: the coverage's scores were wiped before each message); ` +
          `every message starts a chain: the run that writes, then the run its coverage write re-triggers, which writes nothing. ` +
          `push_mode graphql: write run ${describeKind(captured.write)}; echo run ${describeKind(captured.echo)}; first assessment's write run ${describeKind(firstRun.write)}${amqpNote}; ` +
          `worker.concurrency 4, prefetch 10, log level info to a discarded stdout, ${RULES} rules, ${PATTERNS} attack patterns per report; calls and JSON texts recorded over ${captured.enrichments} chains run one at a time; ` +
          `CPU per message over ${run.completed} messages (${run.runs} runs) with ${outstanding} kept on the queue, the platform at rest before and after (enrichments_per_s and latency include the stand-in platform on the same 2 cores: context only); ` +
          `transport_floor_ms = CPU per chain of a bare amqplib + undici client (its own process) moving the recorded texts of the same chains: each message and its STIX texts parsed, the recorded calls sent and answered by a canned server in another process, one ack per message, concurrency 4, prefetch 10 (the least a Node connector on this stack spends, before any of its own work); ` +
          `cpu_ms_scheduled = the same for ${scheduled.completed} scheduler messages (mode manual, validity lapsed, rules and content unchanged: new dates written, then the re-triggered run), context only`,
      ),
    );

    if (memoryFigure) add(memoryFigure);
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
