import type { ScheduleCacheEntry } from '../../domain/schedule/schedule-ports';
import type { CoverageScheduleInput } from '../../domain/schedule/schedule-types';

/** A coverage as the platform or the worker gives it (Dates), or as the state file kept it (epoch ms). */
export type EntrySource = CoverageScheduleInput | ScheduleCacheEntry;

/**
 * One coverage as the scheduler keeps it in memory: times as epoch milliseconds instead of Date
 * objects, and the few distinct periodicity / duration strings shared. At 100,000 coverages this is
 * ~20 MB less than keeping each coverage's CoverageScheduleInput (three Dates, its own copies of
 * "P1D"…), which also means shorter garbage collections. `input` rebuilds the domain value on demand.
 */

const shared = new Map<string, string>();
/** Distinct strings kept for sharing: real deployments use a handful; past this, strings are kept as they come. */
const MAX_SHARED = 256;

function intern(value: string | null | undefined): string | null | undefined {
  if (typeof value !== 'string') return value;
  const known = shared.get(value);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(value, value);
  return value;
}

const msOf = (d?: Date | number | null): number | undefined => (d === undefined || d === null ? undefined : typeof d === 'number' ? d : d.getTime());
const latest = (a?: number, b?: number): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
const dateOf = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));

export class ScheduleEntry {
  id: string;
  standardId: string;
  name: string | undefined;
  createdAt: number;
  periodicity: string | null | undefined;
  duration: string | null | undefined;
  lastResultAt: number | undefined;
  lastTriggeredAt: number | undefined;
  manual: boolean | undefined;
  /** Last time the platform (reconcile, pre-run read) or the worker told us about it. */
  seenAt: number;

  constructor(input: EntrySource, seenAt: number) {
    this.id = input.id;
    this.standardId = input.standardId;
    this.name = input.name;
    this.createdAt = msOf(input.createdAt) as number;
    this.periodicity = intern(input.periodicity);
    this.duration = intern(input.duration);
    this.lastResultAt = msOf(input.lastResultAt);
    this.lastTriggeredAt = msOf(input.lastTriggeredAt);
    this.manual = input.manual;
    this.seenAt = seenAt;
  }

  /** Platform data wins for what users edit; run dates only move forward (a report may be newer than a read). */
  update(input: EntrySource, seenAt: number): this {
    // Equal strings are kept: the entry's copies are old and settled, the page's die young (a
    // reconciliation that swapped them left 100,000 strings of garbage in the old generation).
    if (this.id !== input.id) this.id = input.id;
    if (this.name !== input.name) this.name = input.name;
    this.createdAt = msOf(input.createdAt) as number;
    this.periodicity = intern(input.periodicity);
    this.duration = intern(input.duration);
    this.lastResultAt = latest(this.lastResultAt, msOf(input.lastResultAt));
    this.lastTriggeredAt = latest(this.lastTriggeredAt, msOf(input.lastTriggeredAt));
    this.manual = input.manual;
    this.seenAt = seenAt;
    return this;
  }

  get input(): CoverageScheduleInput {
    return {
      id: this.id,
      standardId: this.standardId,
      name: this.name,
      createdAt: new Date(this.createdAt),
      periodicity: this.periodicity,
      duration: this.duration,
      lastResultAt: dateOf(this.lastResultAt),
      lastTriggeredAt: dateOf(this.lastTriggeredAt),
      manual: this.manual,
    };
  }
}
