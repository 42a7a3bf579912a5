import { Worker } from 'node:worker_threads';
import { describeFsError, readFileBoundedSync, tooLargeReason, type FileRead } from './safe-files';

/**
 * Reading thousands of rule files while parsing them. Files go in batches; this thread and one helper
 * thread both take the next unread batch from a shared counter: the helper reads (blocking calls) and
 * posts texts back, this thread parses what arrived and, when nothing has, reads the next batch itself
 * (yielding to the event loop between batches). So the I/O overlaps the parsing when a core is free,
 * and nothing waits on the helper when none is. The helper's code is inline JavaScript (no module to
 * resolve, compiled or from TypeScript); if it cannot start or dies, its batches are read here.
 */

/** Files per batch: one batch blocks the event loop ~2-5 ms (read + parse). */
const BATCH = 32;
/** Below this many files, starting the helper thread (~20 ms) costs more than it saves. */
export const THREAD_THRESHOLD = 200;

// Plain JavaScript run by the helper: the same steps and checks as readFileBoundedSync (safe-files.ts);
// test/unit/evidence/safe-files.test.ts checks that both give the same results.
const THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { hash } = require('node:crypto');
function readOne(path, maxBytes) {
  let fd;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { ok: false, reason: 'not a regular file' };
    if (stats.size > maxBytes) return { ok: false, tooLarge: stats.size };
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytes = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
      if (bytes === 0) return { ok: false, reason: 'file shrank while being read' };
      filled += bytes;
    }
    return { ok: true, buffer, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, hash: hash('sha1', buffer) };
  } catch (err) {
    return { ok: false, code: err && err.code, message: err && err.message ? err.message : String(err) };
  } finally {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
  }
}
const { paths, maxBytes, batch, claim } = workerData;
const batches = Math.ceil(paths.length / batch);
for (let b = Atomics.add(claim, 0, 1); b < batches; b = Atomics.add(claim, 0, 1)) {
  const results = paths.slice(b * batch, (b + 1) * batch).map((p) => readOne(p, maxBytes));
  // One block for the whole batch, moved to the other thread without a copy; each file is a range of it.
  const block = Buffer.allocUnsafeSlow(results.reduce((n, r) => n + (r.ok ? r.size : 0), 0));
  let at = 0;
  for (const r of results) {
    if (!r.ok) continue;
    r.buffer.copy(block, at);
    r.start = at;
    at += r.size;
    delete r.buffer;
  }
  parentPort.postMessage({ b, block: block.buffer, results }, [block.buffer]);
}
`;

type RawRead =
  | { ok: true; start: number; size: number; mtimeMs: number; ctimeMs: number; ino: number; hash: string }
  | { ok: false; reason: string }
  | { ok: false; tooLarge: number }
  | { ok: false; code?: string; message: string };

function fromRaw(raw: RawRead, block: ArrayBuffer, maxBytes: number): FileRead {
  if (raw.ok) return { ok: true, bytes: Buffer.from(block, raw.start, raw.size), size: raw.size, mtimeMs: raw.mtimeMs, ctimeMs: raw.ctimeMs, ino: raw.ino, hash: raw.hash };
  if ('tooLarge' in raw) return { ok: false, reason: tooLargeReason(raw.tooLarge, maxBytes) };
  if ('reason' in raw) return raw;
  return { ok: false, reason: describeFsError(Object.assign(new Error(raw.message), { code: raw.code })) };
}

export interface ReadFilesOptions {
  maxBytes: number;
  /** false: no helper thread (default: one from THREAD_THRESHOLD files up). */
  thread?: boolean;
  /** Replaces the helper's code (tests: a helper that dies half-way). */
  threadSource?: string;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads every path, handing results to `onBatch(start, results)` as they come (batches in any
 * order, each in path order); resolves once every path has been handed over exactly once.
 */
export async function readFiles(paths: readonly string[], options: ReadFilesOptions, onBatch: (start: number, results: FileRead[]) => void): Promise<void> {
  const { maxBytes } = options;
  const batches = Math.ceil(paths.length / BATCH);
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const done = new Set<number>();
  const inbox: Array<{ b: number; block: ArrayBuffer; results: RawRead[] }> = [];
  let wake: (() => void) | undefined;
  let helperAlive = false;
  let helper: Worker | undefined;
  const deliver = (b: number, results: FileRead[]): void => {
    if (done.has(b)) return;
    done.add(b);
    onBatch(b * BATCH, results);
  };
  const readHere = (b: number): FileRead[] => paths.slice(b * BATCH, (b + 1) * BATCH).map((p) => readFileBoundedSync(p, maxBytes));
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  if ((options.thread ?? paths.length >= THREAD_THRESHOLD) && batches > 1) {
    try {
      helper = new Worker(options.threadSource ?? THREAD_SOURCE, { eval: true, workerData: { paths, maxBytes, batch: BATCH, claim } });
      helperAlive = true;
      helper.on('message', (m: { b: number; block: ArrayBuffer; results: RawRead[] }) => {
        inbox.push(m);
        poke();
      });
      const gone = (): void => {
        helperAlive = false;
        poke();
      };
      helper.once('error', gone);
      helper.once('exit', gone);
    } catch {
      helperAlive = false;
    }
  }
  try {
    while (done.size < batches) {
      for (let m = inbox.shift(); m; m = inbox.shift()) deliver(m.b, m.results.map((r) => fromRaw(r, (m as { block: ArrayBuffer }).block, maxBytes)));
      if (done.size >= batches) break;
      const b = Atomics.add(claim, 0, 1);
      if (b < batches) {
        deliver(b, readHere(b));
        await nextTurn();
      } else if (helperAlive) {
        await new Promise<void>((resolve) => (wake = resolve));
      } else {
        // The helper died holding batches: read them here.
        for (let i = 0; i < batches; i += 1) {
          if (done.has(i)) continue;
          deliver(i, readHere(i));
          await nextTurn();
        }
      }
    }
  } finally {
    helper?.removeAllListeners();
    helper?.on('error', () => undefined);
    void helper?.terminate();
  }
}
