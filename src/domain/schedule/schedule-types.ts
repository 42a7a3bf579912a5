import type { Duration } from 'luxon';

/**
 * Scheduling model. The platform is the source of truth: everything a plan needs comes from what
 * OpenCTI stores on the coverage (creation date, periodicity, duration, last result) plus the latest
 * enrichment work of this connector on it. See docs/scheduling.md.
 */

/** What the scheduler knows about one coverage, as read from the platform (or reported by the worker). */
export interface CoverageScheduleInput {
  /** OpenCTI internal id (used to ask the enrichment); the standard id works too. */
  id: string;
  /** `security-coverage--…`: the key of the schedule (what enrichment messages carry as entity_id). */
  standardId: string;
  name?: string;
  /** `created_at` of the coverage in the platform: the anchor of `duration`. */
  createdAt: Date;
  periodicity?: string | null;
  duration?: string | null;
  /** `coverage_last_result`: run time of the latest result pushed. */
  lastResultAt?: Date | null;
  /** `auto_enrichment_disable` ("Manual input" coverages are never scheduled). */
  manual?: boolean;
  /** Start of the latest enrichment work of this connector on the coverage (run started, maybe not finished). */
  lastTriggeredAt?: Date | null;
}

/** Validated scheduler settings (built from the `scheduler.*` config by `schedulePolicyFrom`). */
export interface SchedulePolicy {
  defaultPeriodicity: Duration;
  defaultDuration: Duration;
  minPeriodicity: Duration;
  maxDuration: Duration;
  /** IANA zone in which calendar units (P1D, P1M) are added. */
  zone: string;
  /** A coverage without any result yet is due this long after its creation (capped by its periodicity). */
  firstRunGrace: Duration;
  /** A started run without a result is considered in flight this long; after it the next period counts from its start. */
  runTimeout: Duration;
}

export type ScheduleStatus =
  /** Next run in the future. */
  | 'scheduled'
  /** Next run time reached: the next leader tick starts it. */
  | 'due'
  /** A run was started and its result is not in yet. */
  | 'running'
  /** `first run + duration` reached: no more runs. */
  | 'finished'
  /** "Manual input" coverage (auto_enrichment_disable): never scheduled. */
  | 'manual';

export type ScheduleIssueCode = 'invalid-periodicity' | 'invalid-duration' | 'default-periodicity' | 'default-duration';

/** Why the effective periodicity/duration is not the coverage's own. */
export interface ScheduleIssue {
  code: ScheduleIssueCode;
  reason: string;
}

export interface SchedulePlan {
  id: string;
  standardId: string;
  name?: string;
  status: ScheduleStatus;
  /** Effective periodicity (the coverage's, or the default when missing/invalid). */
  periodicity: string;
  duration: string;
  issues: ScheduleIssue[];
  /** Anchor of `duration`: the earlier of creation and the last result. */
  firstRunAt: Date;
  /** Latest of the last result and the last started run. */
  lastRunAt?: Date;
  /** When the scheduler looks at the coverage next: the next run (scheduled/due) or the end of the in-flight wait (running). */
  nextRunAt?: Date;
  /** first run + duration: runs strictly before it are allowed. */
  endsAt: Date;
  remainingMs: number;
}
