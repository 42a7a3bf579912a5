import type { CoverageRequest, ScoreEntry } from '../coverage/coverage-types';
import type { ControlMode, RuleMaturity, ValidationOutcome } from '../evidence/evidence-types';

/** The four Detection rubric parts, each 0-25 (see docs/scoring.md). */
export interface DetectionParts {
  dataSource: number;
  ruleQuality: number;
  validation: number;
  enrichment: number;
}

/** The result for one technique. `tested: false` means "not tested": no scores at all (never 0). */
export interface TechniqueAssessment {
  techniqueId: string;
  stixId?: string;
  name?: string;
  tested: boolean;
  /**
   * Set when none of the coverage's platforms is one the technique runs on (ATT&CK `x_mitre_platforms`):
   * `tested` is false and nothing is scored, which is not the same as a 0.
   */
  notApplicable?: boolean;
  /** Integer 0-100 when measured. */
  detection?: number;
  prevention?: number;
  detectionParts?: DetectionParts;
  /** Human explanation lines: the rules, controls and evidence behind the scores. */
  why: string[];
  /** Ids of the rules / controls / evidence used. */
  rules: string[];
  controls: string[];
  /** Optional: data sources the technique's detections rely on (embedded engine; shown in Navigator metadata). */
  dataSources?: string[];
  /** Which backend produced this entry (embedded, openaev, siem…). */
  source: string;
  /** Link to the run that produced it, when the backend has one. */
  externalUri?: string;
  /**
   * Optional: the evidence behind the scores, kept so a later run can name what changed (score
   * history, `assess --baseline`). The embedded engine fills it; other backends leave it out.
   */
  evidence?: TechniqueEvidence;
  /**
   * Optional: the scores on each of the coverage's platforms the technique applies to, when there are
   * several (the technique's scores are the weakest platform's; docs/scoring.md).
   */
  platforms?: PlatformScore[];
}

/** A technique's scores on one platform. */
export interface PlatformScore {
  platform: string;
  detection?: number;
  prevention?: number;
  /** Usable rules that run on this platform. */
  rules: number;
}

/** One rule credited to a technique (tagged with it, or rolled up from a sub-technique), counted or not. */
export interface EvidenceRule {
  id: string;
  title: string;
  /** `counted`: enabled, not deprecated and not failing, so it scores. A building block supports rules but raises no alert. */
  state: 'counted' | 'disabled' | 'deprecated' | 'failing' | 'building-block';
  maturity: RuleMaturity;
  /** Data source feeding the rule (its most specific matched key) and whether it is collected (absent: unknown). */
  source?: string;
  fed?: boolean;
}

/** What the embedded engine looked at for one technique. */
export interface TechniqueEvidence {
  rules: EvidenceRule[];
  /** Data sources the technique's detections rely on; `collected` is absent when the inventory does not list one. */
  dataSources: Array<{ id: string; collected?: boolean }>;
  controls: Array<{ id: string; name: string; mode: ControlMode; validated: boolean }>;
  /** Latest emulation result (own or rolled up). */
  emulation?: { outcome: ValidationOutcome; date: string; test?: string };
  /** Imported Navigator / DeTT&CT estimates. */
  imported?: Array<{ origin: string; detection?: number; visibility?: number }>;
}

/**
 * A technique worth closing first: priority = prevalence × impact × feasibility (0-10 each) × exposure
 * (0-1, what neither detection nor prevention covers); docs/scoring.md §7.
 */
export interface Gap {
  techniqueId: string;
  name?: string;
  priority: number;
  prevalence: number;
  impact: number;
  feasibility: number;
  /** 0-1: (1 − detection/100) × (1 − prevention/100), an unmeasured type counting as uncovered. */
  exposure?: number;
  detection?: number;
  prevention?: number;
  /** Data sources that would close the gap (from the ATT&CK catalogue or the rules). */
  missingDataSources: string[];
  /** The type to work on (the one under the threshold; the cheaper to close when both are). */
  dimension?: 'detection' | 'prevention';
  /** What would close it, in a sentence ("enable rule …", "collect …", "add a prevention control …"). */
  action?: string;
  /** Where the prevalence came from ("OpenCTI: 12 intrusion sets, 3 campaigns, 40 reports", "shipped table"…). */
  prevalenceSource?: string;
  /** The coverage's platforms on which the gap is (the weakest), when the coverage names platforms. */
  platforms?: string[];
  /** A parent technique whose gap this one stands for (parent and sub-technique are listed once). */
  covers?: string[];
}

export interface AssessmentResult {
  /** Backend name(s) that produced the result. */
  backend: string;
  /** ISO time of the run. */
  runAt: string;
  externalUri?: string;
  techniques: TechniqueAssessment[];
  /** Container-level scores (aggregate over tested techniques). */
  overall: ScoreEntry[];
  gaps: Gap[];
  /** Non-fatal notes: unmatched patterns, unknown techniques, skipped evidence. */
  warnings: string[];
  /** The ATT&CK catalogue version the techniques were judged against, when one was loaded. */
  attackVersion?: string;
  /**
   * Optional: when several backends contributed (src/domain/assessment/combine.ts), one entry per
   * backend with its run time, link and how many techniques it scored. Absent for a single backend.
   */
  sources?: AssessmentSource[];
}

/** One backend's share of a combined result. */
export interface AssessmentSource {
  backend: string;
  runAt: string;
  externalUri?: string;
  /** Techniques whose final scores (at least one type) came from this backend. */
  techniquesScored: number;
}

/** Context every assessor receives. The clock is injected so results are reproducible. */
export interface AssessContext {
  now: Date;
  signal?: AbortSignal;
}

/**
 * The port every assessment backend implements (embedded engine, OpenAEV, SIEM validation).
 * Implementations live in src/adapters/* (I/O) or src/domain/scoring (pure embedded engine).
 */
export interface Assessor {
  readonly name: string;
  assess(request: CoverageRequest, ctx: AssessContext): Promise<AssessmentResult>;
  /**
   * What, besides the request and the clock's `runAt`, the result of `assess(request)` depends on, as
   * a text that changes whenever any of it does (rules reloaded, prevalence refreshed…). Undefined
   * when the result depends on the outside world (a measured backend): then it is never reused.
   */
  inputsVersion?(request: CoverageRequest): string | undefined;
}

/** A technique entry with no score yet ("not tested"): the starting point of every backend's result. */
export function untestedAssessment(ref: { techniqueId: string; stixId?: string; name?: string }, source: string, externalUri?: string, why: string[] = []): TechniqueAssessment {
  return {
    techniqueId: ref.techniqueId,
    ...(ref.stixId ? { stixId: ref.stixId } : {}),
    ...(ref.name ? { name: ref.name } : {}),
    tested: false,
    why,
    rules: [],
    controls: [],
    source,
    ...(externalUri ? { externalUri } : {}),
  };
}
