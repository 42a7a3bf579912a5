import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { ScheduleCache, ScheduleCacheEntry } from '../../domain/schedule/schedule-ports';

/**
 * `scheduler.state_file`: a snapshot of the due index so a restarted replica has a warm index before
 * its first reconciliation. Only a cache — the platform is the source of truth — so a missing,
 * unreadable or foreign file is treated as empty (and overwritten at the next save), never an error.
 *
 * One JSON line per coverage after a header line, written and read a chunk at a time with a turn of
 * the event loop between chunks: at 100,000 coverages a whole-file JSON.stringify / JSON.parse blocked
 * the loop for 0.2-0.3 s and held the whole text in memory besides the schedule.
 */

const EntrySchema = z.object({
  id: z.string().min(1),
  standardId: z.string().min(1),
  name: z.string().optional(),
  createdAt: z.iso.datetime({ offset: true }),
  periodicity: z.string().nullish(),
  duration: z.string().nullish(),
  lastResultAt: z.iso.datetime({ offset: true }).nullish(),
  lastTriggeredAt: z.iso.datetime({ offset: true }).nullish(),
  manual: z.boolean().optional(),
});

const HeaderSchema = z.object({ version: z.literal(2), savedAt: z.string() });

/** Entries serialised (or parsed and handed over) between two turns of the event loop: a few ms of work. */
const CHUNK = 200;

export interface ScheduleCacheOptions {
  /** Called when the file exists but cannot be used (it is then ignored). */
  onUnusable?: (reason: string) => void;
  now?: () => Date;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createScheduleCache(path: string, options: ScheduleCacheOptions = {}): ScheduleCache {
  const now = options.now ?? (() => new Date());
  let chain: Promise<unknown> = Promise.resolve();
  return {
    async *load() {
      const input = createReadStream(path, { encoding: 'utf8' });
      const lines = createInterface({ input, crlfDelay: Infinity });
      let header = true;
      let chunk: ScheduleCacheEntry[] = [];
      try {
        for await (const line of lines) {
          if (header) {
            header = false;
            let parsed: unknown;
            try {
              parsed = JSON.parse(line);
            } catch {
              parsed = undefined;
            }
            if (!HeaderSchema.safeParse(parsed).success) {
              options.onUnusable?.(`${path} is not a schedule cache (version 2); ignoring it`);
              return;
            }
            continue;
          }
          if (line === '') continue;
          // One bad line does not spoil the others.
          try {
            const e = EntrySchema.safeParse(JSON.parse(line));
            if (e.success) chunk.push(e.data as ScheduleCacheEntry);
          } catch {
            // not JSON: skipped
          }
          if (chunk.length >= CHUNK) {
            yield chunk;
            chunk = [];
            await nextTurn();
          }
        }
        if (chunk.length > 0) yield chunk;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        options.onUnusable?.(`cannot read ${path}: ${(err as Error).message}`);
      } finally {
        lines.close();
        input.destroy();
      }
    },
    save(entries) {
      const write = async (): Promise<void> => {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        const out = createWriteStream(tmp, { encoding: 'utf8' });
        const failed = new Promise<never>((_, reject) => out.once('error', reject));
        failed.catch(() => undefined); // observed through the races below
        const put = async (text: string): Promise<void> => {
          if (!out.write(text)) await Promise.race([new Promise<void>((resolve) => out.once('drain', () => resolve())), failed]);
        };
        try {
          await put(`${JSON.stringify({ version: 2, savedAt: now().toISOString() })}\n`);
          let chunk: string[] = [];
          for (const e of entries) {
            chunk.push(JSON.stringify(e));
            if (chunk.length >= CHUNK) {
              await put(`${chunk.join('\n')}\n`);
              chunk = [];
              await nextTurn();
            }
          }
          if (chunk.length > 0) await put(`${chunk.join('\n')}\n`);
          await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
          await rename(tmp, path);
        } catch (err) {
          out.destroy();
          await rm(tmp, { force: true });
          throw err;
        }
      };
      // Serialised so two saves never interleave their temp files.
      const next = chain.then(write, write);
      chain = next.catch(() => undefined);
      return next;
    },
  };
}

/** Every entry of a cache, at once (tests, tools; the scheduler takes `load()` chunk by chunk). */
export async function readAllEntries(cache: ScheduleCache): Promise<ScheduleCacheEntry[]> {
  const all: ScheduleCacheEntry[] = [];
  for await (const chunk of cache.load()) all.push(...chunk);
  return all;
}
