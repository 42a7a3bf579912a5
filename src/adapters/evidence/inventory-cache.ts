import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Loaded } from './parse-text';
import type { FileRules } from './rule-files';
import { contentHash } from './safe-files';

/**
 * `coverage.cache_file`: what each rule file parsed to, so a restart re-parses only the files that
 * changed. Each entry is keyed by the file's path, size, mtime and content hash (sha1):
 *  - a file whose path, size, mtime, ctime and inode are those recorded is not even read, unless its
 *    entry is "racy" (the file changed less than RACY_MS before it was hashed: an edit in the same
 *    timestamp tick could hide). Restoring an mtime by hand (touch -d, utimes) changes the ctime;
 *  - any other file is read and hashed: same path and same hash → its recorded result, otherwise parsed.
 * The whole cache is used only when written by the same loader code and parser versions
 * (`fingerprint`). Only a cache: missing, unreadable or foreign files are ignored (and replaced at the
 * next save), never an error.
 */

/** What identifies one version of one rule file. */
export interface FileKey {
  /** Path as configured + relative part (FoundFile.display): the lookup key. */
  display: string;
  /** Real path read. */
  absolute: string;
  relative: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  hash: string;
}

export interface CacheEntry extends FileKey {
  /** Clock time (ms) before the content was read and hashed. */
  hashedAt: number;
  result: Loaded<FileRules>;
}

/** Metadata that must be unchanged for a file to be trusted without reading it. */
export type FileStat = Omit<FileKey, 'hash'>;

/** Timestamps this close to (or after) the hashing time do not prove the content unchanged. */
const RACY_MS = 2000;

const FORMAT = 2;

/**
 * Modules whose code decides what a file parses to, and the parsers they use: any change to one of
 * them (an upgrade, a new mapping) gives another fingerprint, so old results are never reused.
 */
const LOADER_MODULES = [
  './rule-files', './parse-text', './sigma-loader', './elastic-loader', './splunk-loader', './sentinel-loader', './wazuh-loader', './rule-common',
  './rule-platforms', '../../../schemas/evidence', '../../domain/coverage/attack-ids', '../../domain/coverage/platforms',
];
const PARSER_PACKAGES = ['js-yaml', 'smol-toml', 'fast-xml-parser', 'zod'];

let fingerprintMemo: string | undefined;

export function loaderFingerprint(): string {
  if (fingerprintMemo) return fingerprintMemo;
  const parts: string[] = [String(FORMAT)];
  for (const m of LOADER_MODULES) {
    try {
      parts.push(contentHash(readFileSync(require.resolve(m), 'utf8')));
    } catch {
      parts.push(`${m}?`);
    }
  }
  for (const p of PARSER_PACKAGES) {
    try {
      parts.push(`${p}@${(JSON.parse(readFileSync(require.resolve(`${p}/package.json`), 'utf8')) as { version: string }).version}`);
    } catch {
      parts.push(`${p}@?`);
    }
  }
  fingerprintMemo = contentHash(parts.join('\n'));
  return fingerprintMemo;
}

export interface InventoryCache {
  /** The entry of a file whose metadata shows it unchanged since it was hashed (no need to read it). */
  unchanged(stat: FileStat): CacheEntry | undefined;
  /** The cached result for this exact content at this path, if any. */
  lookup(key: FileKey): Loaded<FileRules> | undefined;
  /** Replaces the stored entries with `entries` (the files of the last load) when they differ. */
  save(entries: CacheEntry[]): Promise<void>;
  readonly path: string;
  /** Why an existing file was not used, when it was not. */
  readonly ignoredBecause?: string;
}

const samePath = (e: FileStat, k: FileStat): boolean => e.absolute === k.absolute && e.relative === k.relative;
const sameStat = (e: FileStat, k: FileStat): boolean => samePath(e, k) && e.size === k.size && e.mtimeMs === k.mtimeMs && e.ctimeMs === k.ctimeMs && e.ino === k.ino;
const same = (e: CacheEntry, k: CacheEntry): boolean => sameStat(e, k) && e.hash === k.hash && e.hashedAt === k.hashedAt;

const isEntry = (e: unknown): e is CacheEntry => {
  const x = e as Partial<CacheEntry> | null;
  return (
    typeof x === 'object' && x !== null && typeof x.display === 'string' && typeof x.absolute === 'string' && typeof x.relative === 'string' &&
    typeof x.size === 'number' && typeof x.mtimeMs === 'number' && typeof x.ctimeMs === 'number' && typeof x.ino === 'number' && typeof x.hashedAt === 'number' &&
    typeof x.hash === 'string' && typeof x.result === 'object' && x.result !== null &&
    (x.result.ok ? typeof x.result.value === 'object' : typeof x.result.issue === 'object')
  );
};

/** Opens the cache at `path` (reads it once); entries written by other code or other parsers are dropped. */
export async function openInventoryCache(path: string): Promise<InventoryCache> {
  const fingerprint = loaderFingerprint();
  const entries = new Map<string, CacheEntry>();
  let ignoredBecause: string | undefined;
  try {
    const file = JSON.parse(await readFile(path, 'utf8')) as { format?: unknown; fingerprint?: unknown; entries?: unknown };
    if (file.format !== FORMAT || !Array.isArray(file.entries)) ignoredBecause = 'not an inventory cache of this version';
    else if (file.fingerprint !== fingerprint) ignoredBecause = 'written by other loader code or parser versions';
    else for (const e of file.entries) if (isEntry(e)) entries.set(e.display, e);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ignoredBecause = `unreadable: ${(err as Error).message.split('\n', 1)[0]}`;
  }
  let writing: Promise<void> = Promise.resolve();
  return {
    path,
    get ignoredBecause() {
      return ignoredBecause;
    },
    unchanged(stat) {
      const e = entries.get(stat.display);
      return e && sameStat(e, stat) && Math.max(e.mtimeMs, e.ctimeMs) < e.hashedAt - RACY_MS ? e : undefined;
    },
    lookup(key) {
      const e = entries.get(key.display);
      return e && samePath(e, key) && e.hash === key.hash ? e.result : undefined;
    },
    save(next) {
      const unchanged = next.length === entries.size && next.every((e) => {
        const old = entries.get(e.display);
        return old !== undefined && same(old, e);
      });
      if (unchanged && !ignoredBecause) return writing;
      entries.clear();
      for (const e of next) entries.set(e.display, e);
      ignoredBecause = undefined;
      const text = JSON.stringify({ format: FORMAT, fingerprint, savedAt: new Date().toISOString(), entries: next });
      const write = async (): Promise<void> => {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, text, 'utf8');
        await rename(tmp, path);
      };
      // Serialised so two saves never interleave their temp files.
      writing = writing.then(write, write);
      return writing;
    },
  };
}
