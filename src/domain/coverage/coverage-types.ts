/**
 * The coverage model: what is being assessed (a Security Coverage over a container's techniques)
 * and the scores that come out. Shared by the engine, every backend, the bundle builder and the daemon.
 */

/** Score names sent to OpenCTI (the reference product's upper-case names). */
export type CoverageName = 'DETECTION' | 'PREVENTION' | 'VULNERABILITY' | 'HUMAN_RESPONSE';

/** One score: integer percentage 0-100. A type that was not measured is omitted, never sent as 0. */
export interface ScoreEntry {
  name: CoverageName | string;
  score: number;
}

/** STIX types that OpenCTI lets a Security Coverage cover. */
export const COVERABLE_TYPES = [
  'report',
  'grouping',
  'campaign',
  'intrusion-set',
  'incident',
  'case-incident',
  'x-opencti-case-incident',
] as const;
export type CoverableType = (typeof COVERABLE_TYPES)[number];

/** An ATT&CK technique referenced by the covered container. */
export interface TechniqueRef {
  /** Upper-case ATT&CK id: T1059 or T1059.001. */
  techniqueId: string;
  /** STIX id of the attack-pattern in the platform (target of has-covered); absent for offline input. */
  stixId?: string;
  name?: string;
  /** ATT&CK tactic short names from the pattern's `kill_chain_phases` (used for gap impact when no catalogue is loaded). */
  tactics?: string[];
  /** `x_mitre_data_sources` of the pattern, when the bundle carries them (used to name missing data sources). */
  dataSources?: string[];
  /** `x_mitre_platforms` of the pattern, when the bundle carries them (used without a catalogue). */
  platforms?: string[];
}

/** An attack pattern we could not map to an ATT&CK id: reported, never scored. */
export interface UnmatchedPattern {
  stixId: string;
  name?: string;
  reason: string;
}

/** Everything a backend needs to assess one coverage. Built from a STIX bundle by domain code. */
export interface CoverageRequest {
  /** security-coverage--… echoed from the platform (never computed client-side). */
  coverageId: string;
  coverageName: string;
  /** Standard id of the covered container. */
  coveredRef: string;
  coveredType?: string;
  coveredName?: string;
  techniques: TechniqueRef[];
  unmatched: UnmatchedPattern[];
  periodicity?: string;
  duration?: string;
  typeAffinity?: string;
  platformsAffinity?: string[];
  labels?: string[];
  /** Scores the platform already holds (for the no-change guard). */
  currentCoverage?: ScoreEntry[];
  created?: string;
  modified?: string;
  autoEnrichmentDisable?: boolean;
}
