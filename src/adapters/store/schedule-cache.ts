import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import type { ScheduleCache, ScheduleCacheEntry } from '../../domain/schedule/schedule-ports';

/**
 * `scheduler.state_file`: a snapshot of the due index so a restarted replica has a warm index before
 * its first reconciliation. Only a cache — the platform is the source of truth — so a missing,
 * unreadable or foreign file is treated as empty (and overwritten at the next save), never an error.
 *
 * A header line, then one line per coverage, written and read a buffer at a time with a turn of the
 * event loop between buffers: at 100,000 coverages a whole-file JSON.stringify / JSON.parse blocked
 * the loop for 0.2-0.3 s and held the whole text in memory besides the schedule.
 *
 * Version 3 (written): each coverage a JSON array `[id, standardId, name, createdAt, periodicity,
 * duration, lastResultAt, lastTriggeredAt, manual]`, times as epoch ms, null for what is absent: half
 * the size of version 2 and no Date or ISO string per coverage on either side. Version 2 (one JSON
 * object a line, ISO dates) is still read; anything else is ignored with a reason.
 */

const V2EntrySchema = z.object({
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

const HeaderSchema = z.object({ version: z.union([z.literal(2), z.literal(3)]), savedAt: z.string() });
const VERSION = 3;

/** Entries handed over between two turns of the event loop (the scheduler plans each one). */
const CHUNK = 200;
/** Bytes serialised between two writes (a turn of the event loop each): ~400 coverages. */
const WRITE_BUFFER = 64 * 1024;

export interface ScheduleCacheOptions {
  /** Called when the file exists but cannot be used (it is then ignored). */
  onUnusable?: (reason: string) => void;
  /** Called once after a load that skipped lines (a truncated or damaged file): those coverages come back with the next reconciliation. */
  onDamaged?: (reason: string) => void;
  now?: () => Date;
}

const text = (v: unknown): v is string => typeof v === 'string' && v !== '';
const textOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const timeOrNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));

function fromV3(v: unknown): ScheduleCacheEntry | undefined {
  if (!Array.isArray(v) || v.length !== 9) return undefined;
  const [id, standardId, name, createdAt, periodicity, duration, lastResultAt, lastTriggeredAt, manual] = v as unknown[];
  if (!text(id) || !text(standardId) || !textOrNull(name) || typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return undefined;
  if (!textOrNull(periodicity) || !textOrNull(duration) || !timeOrNull(lastResultAt) || !timeOrNull(lastTriggeredAt)) return undefined;
  if (manual !== null && typeof manual !== 'boolean') return undefined;
  return {
    id,
    standardId,
    name: name ?? undefined,
    createdAt,
    periodicity,
    duration,
    lastResultAt: lastResultAt ?? undefined,
    lastTriggeredAt: lastTriggeredAt ?? undefined,
    manual: manual ?? undefined,
  };
}

function fromV2(v: unknown): ScheduleCacheEntry | undefined {
  const parsed = V2EntrySchema.safeParse(v);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  const ms = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);
  return { ...e, createdAt: Date.parse(e.createdAt), lastResultAt: ms(e.lastResultAt), lastTriggeredAt: ms(e.lastTriggeredAt) };
}

const lineOf = (e: ScheduleCacheEntry): string =>
  JSON.stringify([e.id, e.standardId, e.name ?? null, e.createdAt, e.periodicity ?? null, e.duration ?? null, e.lastResultAt ?? null, e.lastTriggeredAt ?? null, e.manual ?? null]);

async function writeAll(file: FileHandle, buf: Buffer, length: number): Promise<void> {
  let done = 0;
  while (done < length) done += (await file.write(buf, done, length - done)).bytesWritten;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createScheduleCache(path: string, options: ScheduleCacheOptions = {}): ScheduleCache {
  const now = options.now ?? (() => new Date());
  let chain: Promise<unknown> = Promise.resolve();
  return {
    async *load() {
      const input = createReadStream(path);
      const decoder = new StringDecoder('utf8');
      let parse: ((v: unknown) => ScheduleCacheEntry | undefined) | undefined;
      let tail = '';
      let lines = 0;
      let skipped = 0;
      let chunk: ScheduleCacheEntry[] = [];
      /** false: the file is not a schedule cache. */
      const take = (line: string): boolean => {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          value = undefined;
        }
        if (!parse) {
          const header = HeaderSchema.safeParse(value);
          if (!header.success) return false;
          parse = header.data.version === 3 ? fromV3 : fromV2;
          return true;
        }
        lines += 1;
        // One bad line does not spoil the others.
        const entry = value === undefined ? undefined : parse(value);
        if (entry) chunk.push(entry);
        else skipped += 1;
        return true;
      };
      const unusable = (): void => options.onUnusable?.(`${path} is not a schedule cache (version 2 or ${VERSION}); ignoring it`);
      try {
        for await (const buf of input) {
          const lineTexts = (tail + decoder.write(buf as Buffer)).split('\n');
          tail = lineTexts.pop() ?? '';
          for (const line of lineTexts) {
            if (line === '') continue;
            if (!take(line)) {
              unusable();
              return;
            }
            if (chunk.length >= CHUNK) {
              yield chunk;
              chunk = [];
              await nextTurn();
            }
          }
        }
        // A last line without its newline: the end of a whole file, or a cut one (then it does not parse).
        tail += decoder.end();
        if (tail !== '' && !take(tail)) {
          unusable();
          return;
        }
        if (chunk.length > 0) yield chunk;
        if (skipped > 0) options.onDamaged?.(`${skipped} of ${lines} coverage lines of ${path} unreadable (truncated or damaged file); they come back with the next reconciliation`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        options.onUnusable?.(`cannot read ${path}: ${(err as Error).message}`);
      } finally {
        input.destroy();
      }
    },
    save(entries) {
      const write = async (): Promise<void> => {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        const file = await open(tmp, 'w');
        // One buffer, refilled: no Buffer (nor joined string) per chunk for the collector.
        const buf = Buffer.allocUnsafe(WRITE_BUFFER);
        let used = 0;
        /** Appends `line` and a newline; false when the buffer must be written out first. */
        const append = (line: string): boolean => {
          // UTF-8 takes at most 3 bytes per UTF-16 unit.
          if (used + line.length * 3 + 1 > buf.length) return false;
          used += buf.write(line, used);
          buf[used++] = 0x0a;
          return true;
        };
        const put = async (line: string): Promise<void> => {
          if (append(line)) return;
          await writeAll(file, buf, used);
          used = 0;
          if (append(line)) return;
          const big = Buffer.from(`${line}\n`);
          await writeAll(file, big, big.length);
        };
        try {
          await put(JSON.stringify({ version: VERSION, savedAt: now().toISOString() }));
          for (const e of entries) {
            // Awaits only when the buffer is full (an await per line was a promise per coverage).
            const line = lineOf(e);
            if (!append(line)) await put(line);
          }
          await writeAll(file, buf, used);
          await file.close();
          await rename(tmp, path);
        } catch (err) {
          await file.close().catch(() => undefined);
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
