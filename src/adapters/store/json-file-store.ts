import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A small key → JSON value store for state a backend must keep between runs (OpenAEV scenario id and
 * content hash per coverage, recorded executions…). Values must be JSON-serialisable.
 */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (all keys when omitted). */
  keys(prefix?: string): Promise<string[]>;
}

/** In-memory store: the default when no state file is configured, and for tests. */
export function createMemoryStore(initial: Record<string, unknown> = {}): KeyValueStore {
  const data = new Map<string, string>(Object.entries(initial).map(([k, v]) => [k, JSON.stringify(v)]));
  return {
    get: async <T>(key: string) => {
      const raw = data.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as T);
    },
    set: async (key, value) => {
      data.set(key, JSON.stringify(value));
    },
    delete: async (key) => {
      data.delete(key);
    },
    keys: async (prefix = '') => [...data.keys()].filter((k) => k.startsWith(prefix)),
  };
}

/**
 * A store persisted as one JSON object in `path`. Nothing is read until the first call; writes are
 * serialised in-process and atomic (temp file + rename), so a crash never leaves half a file.
 * One process per file: concurrent processes would overwrite each other's keys.
 */
export function createJsonFileStore(path: string): KeyValueStore {
  let cache: Record<string, unknown> | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  async function load(): Promise<Record<string, unknown>> {
    if (cache) return cache;
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      cache = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`state file ${path} is unreadable: ${(err as Error).message}`, { cause: err });
      }
      cache = {};
    }
    return cache;
  }

  async function persist(data: Record<string, unknown>): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data, null, 2), 'utf8');
    await rename(tmp, path);
  }

  /** Runs mutations one after another so two writers never interleave. */
  function serialise<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  }

  return {
    get: async <T>(key: string) => {
      const data = await load();
      const value = data[key];
      return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as T);
    },
    set: (key, value) =>
      serialise(async () => {
        const data = await load();
        data[key] = JSON.parse(JSON.stringify(value)) as unknown;
        await persist(data);
      }),
    delete: (key) =>
      serialise(async () => {
        const data = await load();
        if (!(key in data)) return;
        delete data[key];
        await persist(data);
      }),
    keys: async (prefix = '') => Object.keys(await load()).filter((k) => k.startsWith(prefix)),
  };
}
