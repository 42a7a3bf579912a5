/**
 * Evidence the embedded engine scores from. Loaders in src/adapters/evidence produce these; the
 * domain never reads files.
 */

export type RuleFormat = 'sigma' | 'elastic' | 'splunk' | 'sentinel' | 'wazuh';

/** Normalised rule maturity across formats (Sigma status, Elastic maturity, Splunk status). */
export type RuleMaturity = 'stable' | 'test' | 'experimental' | 'deprecated';

export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface DetectionRule {
  /** The rule's own id (Sigma id, Elastic rule_id, Splunk id), else the file path. */
  id: string;
  title: string;
  format: RuleFormat;
  /** File the rule came from (relative to the inventory root when possible). */
  path: string;
  /** Upper-case ATT&CK ids the rule is tagged with (T1059, T1059.001). */
  techniques: string[];
  maturity: RuleMaturity;
  enabled: boolean;
  severity?: Severity;
  /** 0-100 when the format has one (Elastic risk_score, Splunk risk_score). */
  riskScore?: number;
  /**
   * Data sources the rule needs, normalised to lower-case keys:
   * Sigma `logsource` → "product/category/service" parts joined by "/", Splunk data_source names,
   * Elastic index patterns / integrations.
   */
  dataSources: string[];
  /** The rule carries triage context: risk score, investigation guide/note, false-positive notes, observables. */
  hasEnrichment: boolean;
  /**
   * Platforms the rule runs on (src/domain/coverage/platforms.ts vocabulary), read from what it queries
   * (Sigma logsource.product, Elastic OS tags / index patterns, Splunk data sources…). Absent or empty:
   * not tied to a platform (a proxy or firewall rule), it counts for every platform.
   */
  platforms?: string[];
  /**
   * An Elastic building-block rule: it writes signals other rules correlate, never an alert of its own.
   * It supports a detection (named in the `why`) but does not count as one.
   */
  buildingBlock?: boolean;
  /**
   * Set when the SIEM reports the rule's last execution as failed (live sources only): such a rule does
   * not count, whatever its enabled state. `since`: ISO date of the first failed run seen in a row.
   */
  failing?: { since?: string; message?: string };
}

/** A technique score imported from an ATT&CK Navigator layer or a DeTT&CT file. */
export interface ImportedTechniqueScore {
  techniqueId: string;
  source: 'navigator' | 'dettect';
  /** Detection estimate normalised to 0-100. */
  detection?: number;
  /** Visibility (data available) normalised to 0-100. */
  visibility?: number;
  comment?: string;
  origin: string;
}

/** A collected (or missing) log source. */
export interface DataSourceEntry {
  /** Lower-case key matching DetectionRule.dataSources entries or ATT&CK data component names. */
  id: string;
  name?: string;
  collected: boolean;
  /** Optional aliases that also match (e.g. "sysmon", "windows/process_creation"). */
  aliases: string[];
}

export type ControlMode = 'block' | 'audit' | 'disabled';

/** A prevention control: EDR policy, ASR rule, application control, email filtering… */
export interface PreventionControl {
  id: string;
  name: string;
  mode: ControlMode;
  /** Techniques the control covers directly. */
  techniques: string[];
  /** ATT&CK mitigations (M1038…) the control implements; mapped to techniques through the catalogue. */
  mitigations: string[];
  /** ISO date of the last successful validation of the control, if any. */
  validated?: string;
  /** Platforms the control protects; absent or empty: every platform. */
  platforms?: string[];
}

/** VECTR-style outcome of an emulation run. */
export type ValidationOutcome = 'prevented' | 'detected' | 'logged' | 'none';

export interface ValidationResult {
  techniqueId: string;
  date: string;
  outcome: ValidationOutcome;
  test?: string;
}

/** Compact ATT&CK catalogue entry (from `coverage-connector attack import`). */
export interface CatalogueTechnique {
  id: string;
  name: string;
  /** For sub-techniques: the parent technique id (from the `subtechnique-of` relationship). */
  parent?: string;
  /** Tactic short names (kill_chain_phases phase_name), e.g. "execution". */
  tactics: string[];
  platforms: string[];
  /** "Data source: Data component" strings as ATT&CK lists them. */
  dataComponents: string[];
  /** Mitigation ids (M1038…). */
  mitigations: string[];
  deprecated: boolean;
  revoked: boolean;
  /** For revoked techniques: the technique that replaced it, when known. */
  revokedBy?: string;
}

export interface AttackCatalogue {
  version: string;
  techniques: Record<string, CatalogueTechnique>;
  mitigations: Record<string, { id: string; name: string }>;
}

/** A file that could not be loaded: reported with its path and reason, then skipped. */
export interface LoadIssue {
  path: string;
  reason: string;
}

/** Everything the embedded engine needs. */
export interface EvidenceSet {
  rules: DetectionRule[];
  imported: ImportedTechniqueScore[];
  dataSources: DataSourceEntry[];
  /** False when no data-source inventory was given: the data-source part is then inferred (docs/scoring.md). */
  hasDataSourceInventory: boolean;
  controls: PreventionControl[];
  validation: ValidationResult[];
  catalogue?: AttackCatalogue;
  issues: LoadIssue[];
}
