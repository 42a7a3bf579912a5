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

export interface RunRecorder {
  record(run: CoverageRunRecord): Promise<void>;
}
