import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { ScheduleCache, ScheduleCacheEntry } from '../../domain/schedule/schedule-ports';

/**
 * `scheduler.state_file`: a snapshot of the due index so a restarted replica has a warm index before
 * its first reconciliation. Only a cache — the platform is the source of truth — so a missing,
 * unreadable or foreign file is treated as empty (and overwritten at the next save), never an error.
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

const FileSchema = z.object({ version: z.literal(1), savedAt: z.string(), entries: z.array(z.unknown()) });

export interface ScheduleCacheOptions {
  /** Called when the file exists but cannot be used (it is then ignored). */
  onUnusable?: (reason: string) => void;
  now?: () => Date;
}

export function createScheduleCache(path: string, options: ScheduleCacheOptions = {}): ScheduleCache {
  const now = options.now ?? (() => new Date());
  let chain: Promise<unknown> = Promise.resolve();
  return {
    async load() {
      let raw: string;
      try {
        raw = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        options.onUnusable?.(`cannot read ${path}: ${(err as Error).message}`);
        return [];
      }
      let file: z.infer<typeof FileSchema>;
      try {
        file = FileSchema.parse(JSON.parse(raw));
      } catch {
        options.onUnusable?.(`${path} is not a schedule cache (version 1); ignoring it`);
        return [];
      }
      // One bad entry does not spoil the others.
      return file.entries.flatMap((e) => {
        const parsed = EntrySchema.safeParse(e);
        return parsed.success ? [parsed.data as ScheduleCacheEntry] : [];
      });
    },
    save(entries) {
      const write = async (): Promise<void> => {
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify({ version: 1, savedAt: now().toISOString(), entries }), 'utf8');
        await rename(tmp, path);
      };
      // Serialised so two saves never interleave their temp files.
      const next = chain.then(write, write);
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
