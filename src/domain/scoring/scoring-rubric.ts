import type { ControlMode, DetectionRule, RuleMaturity, Severity, ValidationOutcome } from '../evidence/evidence-types';

/**
 * The numbers of the embedded engine's rubric, in one place. docs/scoring.md explains each one and
 * test/unit/scoring pins them; change all three together.
 */

/** Each Detection part is worth at most this (four parts → 0-100). */
export const PART_MAX = 25;

/** Rule quality: base points of the strongest enabled rule by maturity (deprecated rules never count). */
export const MATURITY_POINTS: Record<Exclude<RuleMaturity, 'deprecated'>, number> = { stable: 15, test: 10, experimental: 5 };

/** Rule quality: bonus of the strongest rule by severity (a rule that pages someone is worth more). */
export const SEVERITY_POINTS: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 1, informational: 0 };

/** Rule quality: bonus for depth (independent enabled rules for the technique): 2 rules → 3, 3 or more → 5. */
export function depthBonus(enabledRules: number): number {
  if (enabledRules >= 3) return 5;
  if (enabledRules === 2) return 3;
  return 0;
}

/** Validation part from the latest emulation outcome (VECTR scale). A block is also an alert. */
export const VALIDATION_POINTS: Record<ValidationOutcome, number> = { prevented: 25, detected: 25, logged: 12, none: 0 };

/** Enrichment part: an enabled rule for the technique carries triage / risk context. */
export const ENRICHMENT_POINTS = 25;

/** Prevention score of the best control covering a technique. */
export const CONTROL_POINTS = { blockValidated: 100, block: 75, audit: 25, disabled: 0 } as const;
/** Prevention score set by the latest emulation: prevented → 100, anything else measured → 0. */
export const EMULATION_PREVENTED = 100;

/** A technique with detection or prevention below this is a gap. */
export const GAP_THRESHOLD = 50;

/**
 * A rule that counts: enabled, not deprecated, not failing on its last execution (live sources), and an
 * alert of its own (an Elastic building block only feeds other rules).
 */
export const isUsable = (rule: DetectionRule): boolean => rule.enabled && rule.maturity !== 'deprecated' && !rule.failing && !rule.buildingBlock;

/** Severity, or one derived from a 0-100 risk score when the format gives only that (Elastic/Splunk bands). */
export function severityOf(rule: DetectionRule): Severity | undefined {
  if (rule.severity) return rule.severity;
  const risk = rule.riskScore;
  if (typeof risk !== 'number' || !Number.isFinite(risk)) return undefined;
  if (risk >= 90) return 'critical';
  if (risk >= 70) return 'high';
  if (risk >= 40) return 'medium';
  if (risk >= 20) return 'low';
  return 'informational';
}

/** Base + severity points of one usable rule (0 for unusable ones). */
export function ruleStrength(rule: DetectionRule): number {
  if (!isUsable(rule)) return 0;
  const maturity = MATURITY_POINTS[rule.maturity as Exclude<RuleMaturity, 'deprecated'>] ?? 0;
  const severity = severityOf(rule);
  return maturity + (severity ? SEVERITY_POINTS[severity] : 0);
}

/** A 0-100 imported estimate mapped onto one 0-25 part. */
export function proxyPart(value0to100: number): number {
  if (!Number.isFinite(value0to100)) return 0;
  return Math.round((PART_MAX * Math.min(100, Math.max(0, value0to100))) / 100);
}

export function controlPoints(mode: ControlMode, validated: boolean): number {
  if (mode === 'block') return validated ? CONTROL_POINTS.blockValidated : CONTROL_POINTS.block;
  if (mode === 'audit') return CONTROL_POINTS.audit;
  return CONTROL_POINTS.disabled;
}

/** Later date first; equal or unparsable dates keep input order. */
export function byDateDesc<T extends { date: string }>(a: T, b: T): number {
  const ta = Date.parse(a.date);
  const tb = Date.parse(b.date);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return a.date < b.date ? 1 : a.date > b.date ? -1 : 0;
  return tb - ta;
}
