import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseConfig } from '../../src/app/config';
import { startDaemon, type Daemon } from '../../src/app/main';
import type { ConfigInput } from '../../schemas/config';
import { generateEvidence, generateTechniques } from '../lib/generate-evidence';
import { memorySample } from '../lib/measure';

/**
 * The connector under test, alone in its process (so B7 measures its memory and --cpu-prof profiles
 * only it): the real composition root `startDaemon` with a generated 3,000-rule inventory, logging
 * at the configured level to stdout (discarded by the parent, as a container runtime would keep it).
 * Driven over IPC by bench/suites/enrichment.ts: {cmd:'memory'} → sample, {cmd:'cpu'} → CPU ms used so far,
 * {cmd:'profile-start'} / {cmd:'profile-stop', file} → a CPU profile of just the phase between them,
 * {cmd:'stop'} → close and exit.
 */

export interface DaemonSpec {
  config: ConfigInput;
  seed: number;
  rules: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_DAEMON ?? '{}') as DaemonSpec;
  const evidence = generateEvidence(spec.seed, spec.rules, generateTechniques(spec.seed));
  let daemon: Daemon | undefined;
  let profiler: Session | undefined;
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => profiler?.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  process.on('message', (m: { cmd?: string; file?: string }) => {
    if (m.cmd === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      // BENCH_HEAP_PROFILE=1: where the phase allocates, too (sampling, beside the CPU profile).
      const heap = process.env.BENCH_HEAP_PROFILE === '1';
      void post('Profiler.enable')
        .then(() => post('Profiler.start'))
        .then(() => (heap ? post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }) : undefined))
        .then(() => process.send?.({ profiling: true }));
    }
    if (m.cmd === 'profile-stop') {
      void post('Profiler.stop')
        .then(async (result) => {
          writeFileSync(String(m.file), JSON.stringify((result as { profile: unknown }).profile));
          if (process.env.BENCH_HEAP_PROFILE === '1') {
            const heap = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
            writeFileSync(String(m.file).replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify(heap.profile));
          }
          profiler?.disconnect();
          process.send?.({ profiled: m.file });
        });
    }
    if (m.cmd === 'memory') process.send?.({ memory: memorySample() });
    // This process's CPU (all its threads), user + system, in ms.
    if (m.cmd === 'cpu') {
      const c = process.cpuUsage();
      process.send?.({ cpu: (c.user + c.system) / 1000, cpuSystem: c.system / 1000 });
    }
    if (m.cmd === 'stop') {
      void (async () => {
        await daemon?.close().catch(() => undefined);
        process.send?.({ stopped: true }, () => process.exit(0));
      })();
    }
  });
  process.on('disconnect', () => process.exit(0));
  try {
    daemon = await startDaemon({ config: parseConfig(spec.config), evidence });
    process.send?.({ ready: true, memory: memorySample() });
  } catch (err) {
    process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
  }
}

void main();
