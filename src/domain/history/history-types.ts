import type { DetectionParts, TechniqueEvidence } from '../assessment/assessment-types';

/**
 * Score history of a coverage (docs/history.md): what one run measured, what changed since the run
 * before, and the regressions that are open. Plain JSON-safe values: they are stored as they are.
 */

export type ScoreName = 'DETECTION' | 'PREVENTION';
export const SCORE_NAMES: readonly ScoreName[] = ['DETECTION', 'PREVENTION'];

/** A drop of at least this many points is a regression unless configured otherwise. */
export const DEFAULT_REGRESSION_THRESHOLD = 10;

/** One technique of a run: its scores (absent = not measured) and the evidence that produced them. */
export interface TechniqueSnapshot {
  id: string;
  name?: string;
  detection?: number;
  prevention?: number;
  /** Backend(s) behind the scores (`embedded`, `openaev+embedded`…). */
  source?: string;
  /** Counted rule ids and control ids, as every backend reports them. */
  rules: string[];
  controls: string[];
  parts?: DetectionParts;
  /** The embedded engine's evidence record, when it ran. */
  evidence?: TechniqueEvidence;
}

/** Everything a later run compares against. No run time: identical evidence gives an identical snapshot. */
export interface RunSnapshot {
  backend: string;
  overall: Partial<Record<ScoreName, number>>;
  /** Sorted by id, one entry per technique. */
  techniques: TechniqueSnapshot[];
}

export type CauseKind =
  // worse
  | 'rule-removed'
  | 'rule-disabled'
  | 'rule-deprecated'
  | 'rule-downgraded'
  | 'rule-not-counted'
  | 'data-source-lost'
  | 'emulation-worse'
  | 'control-removed'
  | 'control-disabled'
  | 'control-audit'
  | 'control-unvalidated'
  | 'import-lower'
  | 'technique-added'
  // better
  | 'rule-added'
  | 'rule-enabled'
  | 'rule-upgraded'
  | 'data-source-collected'
  | 'emulation-better'
  | 'control-added'
  | 'control-enforced'
  | 'control-validated'
  | 'import-higher'
  | 'technique-removed'
  // either way
  | 'backend-changed'
  | 'unexplained';

/** One difference in the evidence that explains a score change. */
export interface Cause {
  kind: CauseKind;
  /** The technique whose evidence changed (always set on coverage-level causes). */
  techniqueId?: string;
  /** What changed: a rule id, a data source, a control id, a technique id. */
  subject?: string;
  /** One human line, e.g. `rule "LSASS Memory Dump" (sigma) disabled`. */
  text: string;
}

/** A score that moved between two runs. `techniqueId` absent: the coverage's overall score. */
export interface ScoreChange {
  techniqueId?: string;
  score: ScoreName;
  /** Absent: not measured. */
  from?: number;
  to?: number;
  causes: Cause[];
}

/** A drop of at least the threshold, open until the score comes back within the threshold. */
export interface OpenRegression {
  techniqueId?: string;
  techniqueName?: string;
  score: ScoreName;
  /** The score before the drop: the reference a recovery is measured against. */
  from: number;
  /** The score now (absent: no longer measured). */
  to?: number;
  /** ISO time of the run that saw the drop. */
  since: string;
  causes: Cause[];
}

/** A regression that ended: `from`, `since` and the subject are those of the regression; `to` is the score now. */
export interface Recovery extends Omit<OpenRegression, 'causes'> {
  /** `recovered`: back within the threshold; `technique-removed`: the technique left the container. */
  reason: 'recovered' | 'technique-removed';
  /** Evidence changes that brought the score back (may be empty). */
  causes: Cause[];
}

/** What one run changed compared with the run before it. */
export interface RunChanges {
  /** No earlier run to compare with. */
  first: boolean;
  scoreChanges: ScoreChange[];
  added: Array<{ id: string; name?: string; detection?: number; prevention?: number }>;
  removed: string[];
  /** Evidence changes that moved no score (a second rule disabled while another still counts). */
  quietChanges: Cause[];
  regressions: OpenRegression[];
  recoveries: Recovery[];
}
