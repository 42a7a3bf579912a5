import type { CoverageScheduleInput } from './schedule-types';
import type { ScheduleFacts } from './schedule-plan';

/**
 * Ports of the scheduler (src/app/scheduler/scheduler.ts). Adapters: the platform source and trigger in
 * src/app/scheduler/scheduler-platform.ts (GraphQL), the lock in src/adapters/amqp/leader-lock.ts (RabbitMQ
 * single-active-consumer), the cache in src/adapters/store/schedule-cache.ts. Tests use in-memory fakes.
 */

export interface Clock {
  now(): Date;
}

export interface CoveragePage {
  items: CoverageScheduleInput[];
  /** Cursor to pass to the next `listPage`; absent on the last page. */
  next?: string;
}

/** Reads coverages from the platform (the source of truth). */
export interface CoverageSource {
  /** One page of every coverage, in a stable order; `after` is the previous page's `next`. */
  listPage(after?: string): Promise<CoveragePage>;
  /**
   * One coverage, fresh, with `lastTriggeredAt` = start of the latest enrichment work of this connector
   * on it (used right before a run so that nothing is run twice). `undefined` when it was deleted.
   */
  get(id: string): Promise<CoverageScheduleInput | undefined>;
}

/** Starts one run through the same pipeline as an enrichment (a work visible on the platform). */
export interface RunTrigger {
  trigger(coverage: CoverageScheduleInput): Promise<{ workId?: string }>;
}

/** What the worker tells the scheduler after each enrichment it processed. */
export interface RunReport {
  /** `security-coverage--…` (the enrichment message's entity_id). */
  standardId: string;
  /** Internal id when known (enrichment messages carry it in the OpenCTI extension as `id`). */
  id?: string;
  name?: string;
  /** The run time written as last_result / valid_from. */
  ranAt: Date;
  periodicity?: string | null;
  duration?: string | null;
  /** Creation date when known (OpenCTI extension `created_at` of stix_entity). */
  createdAt?: Date;
  manual?: boolean;
}

/**
 * "Exactly one replica schedules": the holder of the lock is the leader. `send` delivers a message to
 * whoever is leader (run reports from replicas that are not), `onMessage` receives them on the leader.
 */
export interface LeaderLock {
  start(): Promise<void>;
  isLeader(): boolean;
  /** Called with true when this replica becomes leader, false when it stops being leader. Returns an unsubscribe. */
  onLeadershipChange(listener: (leader: boolean) => void): () => void;
  send(message: Record<string, unknown>): Promise<void>;
  onMessage(listener: (message: Record<string, unknown>) => void): () => void;
  close(): Promise<void>;
}

/**
 * A local snapshot of the schedule. Only a cache: deleting it loses nothing (the platform is the truth).
 * Times are epoch ms, as the scheduler keeps them: its entries are saved as they are.
 */
export interface ScheduleCacheEntry extends ScheduleFacts {
  id: string;
  standardId: string;
  name?: string;
}

export interface ScheduleCache {
  /** The saved entries, a chunk at a time (a big schedule is never held twice in memory). */
  load(): AsyncIterable<ScheduleCacheEntry[]>;
  /** Entries may be produced lazily: a big schedule is written a chunk at a time. */
  save(entries: Iterable<ScheduleCacheEntry>): Promise<void>;
}
