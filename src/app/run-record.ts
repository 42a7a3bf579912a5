import type { AssessmentResult } from '../domain/assessment/assessment-types';
import type { CoverageRequest } from '../domain/coverage/coverage-types';

/**
 * What one finished enrichment run hands to whoever keeps its history (score history, regression
 * detection). Given after the outcome is known and before the work is closed; a recorder that fails
 * must not fail the run (the job logs it and goes on).
 */
export interface CoverageRunRecord {
  /** Standard id of the coverage (`security-coverage--…`). */
  coverageId: string;
  /** Internal id of the coverage when the platform told us (for links and label/note writes). */
  coverageInternalId?: string;
  coverageName?: string;
  runAt: Date;
  /** `pushed`: the result changed and was written; `unchanged`: identical to what the platform holds. */
  outcome: 'pushed' | 'unchanged';
  request: CoverageRequest;
  result: AssessmentResult;
  /** Draft the run was started in (results of a draft run are not history of the live coverage). */
  draftId?: string | null;
}

/** A run known to have the content of the coverage's latest recorded run (re-run on unchanged inputs). */
export interface SettledRunRecord extends Omit<CoverageRunRecord, 'request' | 'result'> {
  /** Snapshot hash of the run it repeats (what `record` gave for it). */
  snapshotHash: string;
}

export interface RunRecorder {
  /** The recorded run's snapshot hash; undefined when the run is not history (a draft run). */
  record(run: CoverageRunRecord): Promise<string | undefined>;
  /**
   * Records a repeat of the coverage's latest run without its content; false when the history moved
   * on since (another run, an open regression): the caller records the full run instead.
   */
  recordSettled?(run: SettledRunRecord): Promise<boolean>;
}
