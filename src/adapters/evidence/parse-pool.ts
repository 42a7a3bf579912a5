import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DetectionRule } from '../../domain/evidence/evidence-types';
import type { Loaded } from './parse-text';
import type { FoundFile } from './safe-files';

/**
 * Parsing rule files on worker threads. YAML parsing is CPU-bound (~0.6 ms a rule with the `yaml`
 * library), so thousands of rules load ~2x faster spread over the cores than on the event loop.
 * Workers read and parse whole batches themselves (only paths go in, small rule objects come out).
 * Any worker failure falls back to parsing in this thread: a pool problem never loses a rule.
 */

/** Below this many files the worker start-up (~100 ms) costs more than it saves. */
export const WORKER_THRESHOLD = 400;
const BATCH_SIZE = 100;
const MAX_WORKERS = 3;

export interface BatchRequest {
  id: number;
  files: FoundFile[];
  maxBytes: number;
}
export interface BatchResponse {
  id: number;
  results: Array<Loaded<DetectionRule>>;
}

/** The worker script beside this file: compiled .js, else the .ts source through ts-node (dev, tests). */
export function workerEntry(): { file: string; execArgv: string[] } | undefined {
  const js = join(__dirname, 'parse-worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = join(__dirname, 'parse-worker.ts');
  if (!existsSync(ts)) return undefined;
  try {
    return { file: ts, execArgv: ['--require', require.resolve('ts-node/register/transpile-only')] };
  } catch {
    return undefined;
  }
}

/**
 * Extra threads for `fileCount` files when the caller did not say (this thread parses too, so one
 * fewer than the cores): 0 means parse in this thread only.
 */
export function defaultWorkerCount(fileCount: number): number {
  if (fileCount < WORKER_THRESHOLD) return 0;
  return Math.max(0, Math.min(availableParallelism() - 1, MAX_WORKERS));
}

/**
 * Loads `files` on `workers` threads plus this one, results in input order. All pull batches from
 * one queue; `fallback` loads a batch in this thread, including the batch of a worker that failed.
 */
export async function loadOnWorkers(
  files: readonly FoundFile[],
  maxBytes: number,
  workers: number,
  fallback: (batch: readonly FoundFile[]) => Promise<Array<Loaded<DetectionRule>>>,
  entry: { file: string; execArgv: string[] } | undefined = workerEntry(),
): Promise<Array<Loaded<DetectionRule>>> {
  const results = new Array<Loaded<DetectionRule>>(files.length);
  const batches: Array<{ start: number; files: FoundFile[] }> = [];
  for (let start = 0; start < files.length; start += BATCH_SIZE) batches.push({ start, files: files.slice(start, start + BATCH_SIZE) });
  let next = 0;

  const runInThread = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next];
      next += 1;
      const loaded = await fallback(batch.files);
      loaded.forEach((r, i) => (results[batch.start + i] = r));
    }
  };

  const runWorker = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!entry) {
        resolve();
        return;
      }
      let worker: Worker;
      try {
        worker = new Worker(entry.file, { execArgv: entry.execArgv });
      } catch {
        resolve();
        return;
      }
      let current: { start: number; files: FoundFile[] } | undefined;
      let settled = false;
      const finish = (failed: boolean): void => {
        if (settled) return;
        settled = true;
        worker.removeAllListeners();
        worker.on('error', () => undefined);
        void worker.terminate();
        // The batch the worker held is parsed here instead; the other batches stay for the rest.
        const orphan = failed ? current : undefined;
        (orphan ? fallback(orphan.files).then((loaded) => loaded.forEach((r, i) => (results[orphan.start + i] = r))) : Promise.resolve()).then(resolve, resolve);
      };
      const send = (): void => {
        if (next >= batches.length) {
          current = undefined;
          finish(false);
          return;
        }
        current = batches[next];
        next += 1;
        worker.postMessage({ id: current.start, files: current.files, maxBytes } satisfies BatchRequest);
      };
      worker.on('message', (message: BatchResponse) => {
        if (!current || message.id !== current.start || message.results.length !== current.files.length) {
          finish(true);
          return;
        }
        message.results.forEach((r, i) => (results[(current as { start: number }).start + i] = r));
        send();
      });
      worker.once('error', () => finish(true));
      worker.once('exit', () => finish(true));
      worker.once('online', send);
    });

  await Promise.all([...Array.from({ length: Math.max(0, workers) }, runWorker), runInThread()]);
  return results;
}
