import type { Config } from '../../schemas/config';
import { loadPrevalenceBundle } from '../adapters/evidence/prevalence-bundle';
import type { GraphQLClient } from '../adapters/opencti/graphql-client';
import { createTechniquePrevalenceApi } from '../adapters/opencti/technique-prevalence-api';
import { prevalenceFromUses, type PrevalenceTable } from '../domain/gaps/prevalence';
import { errorMessageOf } from '../errors';
import type { Logger } from './logger';

/**
 * The daemon's gap prevalence (docs/scoring.md §7): read from the platform (or a bundle file) in the
 * background at start, cached, read again every `prevalence.refresh_minutes`. Assessments never wait
 * for it: `current()` hands the last good table (undefined until the first read, so the shipped table
 * ranks), and when it is stale starts one refresh. A failed read keeps the last good table, is logged,
 * and is tried again after RETRY_AFTER_FAILURE_MS.
 */

/** Wait after a failed read (or the refresh period, when shorter). */
export const RETRY_AFTER_FAILURE_MS = 5 * 60_000;

export interface PrevalenceSource {
  /** The table in force, if any (starts a refresh when it is due). */
  current(): PrevalenceTable | undefined;
  /** Reads now (one at a time); resolves when done, never rejects. */
  refresh(): Promise<void>;
  /** For /status and tests. */
  status(): { source: string; asOf?: string; uses?: number; calls: number; lastError?: string };
  close(): void;
}

export interface PrevalenceSourceOptions {
  read: () => Promise<{ table: PrevalenceTable; calls: number }>;
  refreshMs: number;
  log: Logger;
  now?: () => Date;
  label: string;
}

export function createPrevalenceSource(options: PrevalenceSourceOptions): PrevalenceSource {
  const now = options.now ?? (() => new Date());
  let table: PrevalenceTable | undefined;
  let readAt = 0;
  // After a failed read, try again sooner than a whole period (the platform may just have been restarting).
  let waitMs = options.refreshMs;
  let running: Promise<void> | undefined;
  let calls = 0;
  let lastError: string | undefined;
  let closed = false;

  const refresh = (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      const started = now().getTime();
      try {
        const read = await options.read();
        calls += read.calls;
        if (closed) return;
        table = read.table;
        lastError = undefined;
        waitMs = options.refreshMs;
        options.log.info(
          { prevalence: options.label, uses: read.table.uses, techniques: Object.keys(read.table.values).length, calls: read.calls, truncated: read.table.truncated === true, ms: now().getTime() - started },
          'gap prevalence read',
        );
      } catch (err) {
        lastError = errorMessageOf(err);
        waitMs = Math.min(options.refreshMs, RETRY_AFTER_FAILURE_MS);
        options.log.warn({ prevalence: options.label, err: lastError }, table ? 'gap prevalence not refreshed; the last table is kept' : 'gap prevalence not read; the shipped table ranks gaps meanwhile');
      } finally {
        // A failed read waits too: an outage must not turn every assessment into a read.
        readAt = now().getTime();
        running = undefined;
      }
    })();
    return running;
  };

  return {
    current() {
      if (!closed && !running && now().getTime() - readAt >= waitMs) void refresh();
      return table;
    },
    refresh,
    status: () => ({ source: options.label, ...(table ? { asOf: table.asOf, uses: table.uses } : {}), calls, ...(lastError ? { lastError } : {}) }),
    close() {
      closed = true;
    },
  };
}

/**
 * The configured source: the platform (needs its GraphQL client), a bundle file, or none (the shipped
 * table). `gql` may be absent in a process without a platform: then `opencti` means the table.
 */
export function configuredPrevalenceSource(config: Readonly<Config>, log: Logger, gql?: GraphQLClient): PrevalenceSource | undefined {
  const p = config.prevalence;
  const refreshMs = p.refresh_minutes * 60_000;
  if (p.source === 'bundle' && p.bundle_file) {
    const file = p.bundle_file;
    return createPrevalenceSource({
      label: file,
      refreshMs,
      log,
      read: async () => ({ table: await loadPrevalenceBundle(file, { now: new Date(), windowDays: p.window_days }), calls: 0 }),
    });
  }
  if (p.source !== 'opencti' || !gql) return undefined;
  const api = createTechniquePrevalenceApi(gql);
  return createPrevalenceSource({
    label: 'OpenCTI',
    refreshMs,
    log,
    read: async () => {
      const read = await api.read({ maxPages: p.max_pages, reports: p.reports, ...(p.identity ? { identity: p.identity } : {}) });
      if (read.focusUnmatched) log.warn({ identity: p.identity }, 'no intrusion set or campaign targets PREVALENCE_IDENTITY: every adversary ranks the gaps');
      if (read.truncated) log.warn({ max_pages: p.max_pages }, 'gap prevalence read stopped at PREVALENCE_MAX_PAGES: later uses are not counted');
      const focus = p.identity && !read.focusUnmatched ? ', adversaries targeting your identity' : '';
      const table = prevalenceFromUses(read.uses, { origin: 'opencti', label: `OpenCTI${focus}`, now: new Date(), windowDays: p.window_days, ...(read.truncated ? { truncated: true } : {}) });
      return { table, calls: read.calls };
    },
  });
}
