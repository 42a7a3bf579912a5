import { hash } from 'node:crypto';
import * as fs from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { LoadIssue } from '../../domain/evidence/evidence-types';

/**
 * File access for evidence: confined to a root, bounded in size and in parallelism. Rule folders come
 * from third parties (cloned repositories), so a symlink or a crafted path must not make us read
 * /etc/shadow, loop forever or load a 2 GB file.
 */

export const DEFAULT_MAX_RULE_FILE_BYTES = 1024 * 1024;
/** Files read at once: enough to hide disk latency, few enough to stay far from EMFILE. */
export const READ_CONCURRENCY = 32;
/** Deeper than any real rules repository; stops pathological trees. */
const MAX_DEPTH = 32;

export interface FoundFile {
  /** Where to open it (the real path, symlinks resolved). */
  absolute: string;
  /** Path relative to the root as the operator sees it, e.g. "windows/process_creation/x.yml". */
  relative: string;
  /** Path as configured + relative part, for issues. */
  display: string;
}

export interface WalkResult {
  files: FoundFile[];
  issues: LoadIssue[];
}

/** True when `candidate` is `root` or below it (both already absolute and normalised). */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * `candidate` resolved against `root`, or undefined when it escapes the root (`../..`, an absolute path
 * elsewhere). Pure path arithmetic; symlinks are checked by the walker with realpath.
 */
export function resolveWithinRoot(root: string, candidate: string): string | undefined {
  const base = resolve(root);
  const target = resolve(base, candidate);
  return isInside(base, target) ? target : undefined;
}

const codeOf = (err: unknown): string | undefined => (err as { code?: string })?.code;

export function describeFsError(err: unknown): string {
  switch (codeOf(err)) {
    case 'ENOENT':
      return 'not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'symlink loop';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Every file under `root` whose name `accept`s, recursively. Symlinks are followed only while their
 * real target stays inside the root's real path; a directory reached twice (a loop) is reported once
 * and skipped. Hidden entries (.git, .github…) are ignored. A root that is a file is returned alone.
 */
export async function walkRoot(root: string, accept: (name: string) => boolean): Promise<WalkResult> {
  const files: FoundFile[] = [];
  const issues: LoadIssue[] = [];
  let rootReal: string;
  try {
    rootReal = await realpath(root);
    if (!(await stat(rootReal)).isDirectory()) {
      if (!accept(basename(root))) return { files, issues: [{ path: root, reason: 'not a file type read here (see docs/evidence-formats.md)' }] };
      return { files: [{ absolute: rootReal, relative: basename(root), display: root }], issues };
    }
  } catch (err) {
    return { files, issues: [{ path: root, reason: describeFsError(err) }] };
  }
  // path.join, without normalising again and again what is already normal (a readdir name has no separator).
  const base = join(root);
  const displayRoot = base === '.' || base === `.${sep}` ? '' : base.endsWith(sep) ? base : `${base}${sep}`;
  const below = (dir: string, name: string): string => (dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`);
  const visited = new Set<string>([rootReal]);
  const seenFiles = new Set<string>();
  let level: Array<{ real: string; rel: string }> = [{ real: rootReal, rel: '' }];
  for (let depth = 0; level.length > 0; depth += 1) {
    if (depth > MAX_DEPTH) {
      issues.push({ path: join(root, level[0].rel), reason: `deeper than ${MAX_DEPTH} folders: not read` });
      break;
    }
    const nextLevel: Array<{ real: string; rel: string }> = [];
    await mapLimit(level, READ_CONCURRENCY, async (dir) => {
      let entries;
      try {
        entries = await readdir(dir.real, { withFileTypes: true });
      } catch (err) {
        issues.push({ path: join(root, dir.rel), reason: describeFsError(err) });
        return;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        let isDir = entry.isDirectory();
        // Most entries are files of other types: skipped before any path is built.
        if (!isDir && !entry.isSymbolicLink() && !accept(entry.name)) continue;
        const rel = dir.rel ? `${dir.rel}${sep}${entry.name}` : entry.name;
        const display = displayRoot + rel;
        let real = below(dir.real, entry.name);
        if (entry.isSymbolicLink()) {
          try {
            real = await realpath(real);
          } catch (err) {
            issues.push({ path: display, reason: `symlink not followed: ${describeFsError(err)}` });
            continue;
          }
          if (!isInside(rootReal, real)) {
            issues.push({ path: display, reason: 'symlink not followed: its target escapes the root (..)' });
            continue;
          }
          try {
            isDir = (await stat(real)).isDirectory();
          } catch (err) {
            issues.push({ path: display, reason: `symlink not followed: ${describeFsError(err)}` });
            continue;
          }
        }
        if (isDir) {
          if (visited.has(real)) {
            issues.push({ path: display, reason: 'folder already read through another path (symlink loop or alias): skipped' });
            continue;
          }
          visited.add(real);
          nextLevel.push({ real, rel });
        } else if (accept(entry.name) && !seenFiles.has(real)) {
          seenFiles.add(real);
          files.push({ absolute: real, relative: rel, display });
        }
      }
    });
    level = nextLevel;
  }
  // Deterministic order whatever the readdir timing.
  files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  return { files, issues };
}

/** What reading one file gave: its text with size, mtime and content hash, or why it was not read. */
export type FileRead =
  | { ok: true; text: string; size: number; mtimeMs: number; ctimeMs: number; ino: number; hash?: string }
  | { ok: false; reason: string };

/** sha1 of the content: a cache key, not a security boundary (the cache file is ours). */
export const contentHash = (content: string | Buffer): string => hash('sha1', content);

/** The text of a file read: UTF-8, without the byte-order mark Windows editors add (not content). */
const textOf = (bytes: Buffer): string => bytes.toString('utf8').replace(/^\uFEFF/, '');

export const tooLargeReason = (size: number, maxBytes: number): string => `file too large: ${size} bytes, limit ${maxBytes} (LIMITS_MAX_RULE_FILE_BYTES)`;

/**
 * The one buffer files are read into, grown to the largest file read (at most the size cap): a Buffer
 * per file is memory outside the JS heap, whose accounting started full garbage collections all
 * through a load of thousands of rules.
 */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * File text with its size, mtime and hash (unless `hash` is false: only the parsed-rule cache needs
 * it), or a reason: missing, unreadable, not a regular file, or larger than `maxBytes` (checked on the
 * open descriptor before reading). Blocking: four syscalls cost less than four fs callbacks (which,
 * for thousands of rules, cost about as much as parsing); callers read in small batches between
 * event-loop turns (readFilesInBatches).
 */
export function readFileBoundedSync(path: string, maxBytes: number, { hash = true }: { hash?: boolean } = {}): FileRead {
  let fd: number | undefined;
  try {
    // O_NONBLOCK (test/faults/hostile-inventories): opening a FIFO named like a rule must not block
    // forever before the isFile() check below; no effect on regular files.
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { ok: false, reason: 'not a regular file' };
    if (stats.size > maxBytes) return { ok: false, reason: tooLargeReason(stats.size, maxBytes) };
    if (scratch.length < stats.size) scratch = Buffer.allocUnsafeSlow(Math.max(stats.size, scratch.length * 2));
    const bytes = scratch.subarray(0, stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = fs.readSync(fd, bytes, filled, bytes.length - filled, null);
      if (read === 0) return { ok: false, reason: 'file shrank while being read' };
      filled += read;
    }
    const read: FileRead = { ok: true, text: textOf(bytes), size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
    if (hash) read.hash = contentHash(bytes);
    return read;
  } catch (err) {
    return { ok: false, reason: describeFsError(err) };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** One inventory / layer file's text (a single small read: blocking is cheaper than callbacks). */
export async function readTextBounded(path: string, maxBytes: number): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  const read = readFileBoundedSync(path, maxBytes);
  return read.ok ? { ok: true, text: read.text } : read;
}

/** Files read (and handed over) between two turns of the event loop: a few ms of work. */
const READ_BATCH = 32;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads every path a batch at a time, handing each batch to `onBatch(start, results)` (which parses
 * it) before the next one, with a turn of the event loop in between: the daemon stays responsive
 * while it loads thousands of rules. (A helper thread reading ahead was measured on the 2-core bench
 * machine: its start-up and the contention cost more than the overlap saved, so there is none.)
 */
export async function readFilesInBatches(
  paths: readonly string[],
  maxBytes: number,
  onBatch: (start: number, results: FileRead[]) => void,
  options: { hash?: boolean } = {},
): Promise<void> {
  for (let start = 0; start < paths.length; start += READ_BATCH) {
    onBatch(start, paths.slice(start, start + READ_BATCH).map((p) => readFileBoundedSync(p, maxBytes, options)));
    if (start + READ_BATCH < paths.length) await nextTurn();
  }
}
