import { SplunkDetectionSchema, type SplunkDetection } from '../../../schemas/evidence';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, RuleMaturity } from '../../domain/evidence/evidence-types';
import { fail, isRecord, parseYaml, unique, zodReason, type Loaded } from './parse-text';
import { isUnderDeprecatedFolder } from './rule-common';
import { splunkPlatforms } from './rule-platforms';

/**
 * splunk/security_content detections. Techniques come from `tags.mitre_attack_id`; a detection
 * without one is reported, not loaded. Splunk has no severity field: the engine derives one from the
 * risk score.
 */

const MATURITY: Record<string, RuleMaturity> = {
  production: 'stable',
  validation: 'test',
  experimental: 'experimental',
  deprecated: 'deprecated',
  removed: 'deprecated',
};

/**
 * Splunk security_content YAML: a `search`, ATT&CK tags or data sources (Sigma has none of them).
 * Loose on purpose so that a detection missing its search is reported as a broken Splunk detection.
 */
export function looksLikeSplunkDetection(doc: Record<string, unknown>): boolean {
  return typeof doc.search === 'string' || Array.isArray(doc.data_source) || (isRecord(doc.tags) && 'mitre_attack_id' in doc.tags);
}

/** `tags.risk_score`, else the highest `rba.risk_objects[].score` (newer content), clamped to 0-100. */
export function splunkRiskScore(detection: SplunkDetection): number | undefined {
  const scores = [detection.tags?.risk_score, ...(detection.rba?.risk_objects ?? []).map((o) => o.score)].filter(
    (s): s is number => typeof s === 'number' && Number.isFinite(s),
  );
  if (scores.length === 0) return undefined;
  return Math.min(100, Math.max(0, detection.tags?.risk_score ?? Math.max(...scores)));
}

/** An already-parsed Splunk detection document → rule. */
export function splunkRuleFromDocument(doc: unknown, path: string): Loaded<DetectionRule> {
  const parsed = SplunkDetectionSchema.safeParse(doc);
  if (!parsed.success) return fail(path, zodReason('splunk', parsed.error));
  const detection = parsed.data;
  const techniques = unique((detection.tags?.mitre_attack_id ?? []).map(normaliseTechniqueId).filter((id): id is string => id !== undefined));
  if (techniques.length === 0) return fail(path, 'splunk: no ATT&CK technique (tags.mitre_attack_id)');
  const status = detection.status?.trim().toLowerCase();
  const maturity: RuleMaturity = isUnderDeprecatedFolder(path) ? 'deprecated' : (status && MATURITY[status]) || 'experimental';
  const riskScore = splunkRiskScore(detection);
  const observables = detection.tags?.observable ?? [];
  const drilldowns = detection.drilldown_searches ?? [];
  const dataSources = unique((detection.data_source ?? []).map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
  const platforms = splunkPlatforms(dataSources, detection.tags?.asset_type);
  return {
    ok: true,
    value: {
      id: detection.id?.trim() || path,
      title: detection.name,
      format: 'splunk',
      path,
      techniques,
      maturity,
      enabled: true,
      ...(riskScore !== undefined ? { riskScore } : {}),
      dataSources,
      hasEnrichment: riskScore !== undefined || observables.length > 0 || drilldowns.length > 0,
      ...(platforms.length > 0 ? { platforms } : {}),
    },
  };
}

/** Splunk detection YAML text → rule, or the issue that replaces it. */
export function loadSplunkRule(text: string, path: string): Loaded<DetectionRule> {
  const parsed = parseYaml(text);
  if (!parsed.ok) return fail(path, parsed.reason);
  return splunkRuleFromDocument(parsed.value, path);
}
