import { SentinelRuleSchema, type SentinelRule } from '../../../schemas/evidence';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, RuleMaturity } from '../../domain/evidence/evidence-types';
import { fail, parseYaml, unique, zodReason, type Loaded } from './parse-text';
import { isUnderDeprecatedFolder, severityFrom } from './rule-common';
import { sentinelPlatforms } from './rule-platforms';

/**
 * Azure-Sentinel analytic rule templates (YAML). Techniques come from `relevantTechniques`; data
 * sources are the `requiredDataConnectors` connector ids and their data types (any one of them feeds
 * the rule). Templates have no enabled flag (a rule made from one runs), and deprecation is marked in
 * the name or the file name more often than in `status` (shared/samples/README.md).
 */

const MATURITY: Record<string, RuleMaturity> = {
  available: 'stable',
  inpreview: 'test',
  preview: 'test',
  deprecated: 'deprecated',
};

const DEPRECATED_MARK = /\[deprecated\]/i;

/** A Sentinel template: its own keys, none of which Sigma or Splunk content has. */
export function looksLikeSentinelRule(doc: Record<string, unknown>): boolean {
  return 'relevantTechniques' in doc || 'requiredDataConnectors' in doc || (typeof doc.query === 'string' && 'queryFrequency' in doc);
}

/** Connector ids and data types, lower-cased: "securityevents", "windowssecurityevents", "securityevent". */
export function sentinelDataSources(connectors: SentinelRule['requiredDataConnectors']): string[] {
  const keys: string[] = [];
  for (const c of connectors ?? []) {
    if (c.connectorId) keys.push(c.connectorId);
    keys.push(...(c.dataTypes ?? []));
  }
  return unique(keys.map((k) => k.trim().toLowerCase()).filter((k) => k !== ''));
}

export function sentinelRuleFromDocument(doc: unknown, path: string): Loaded<DetectionRule> {
  const parsed = SentinelRuleSchema.safeParse(doc);
  if (!parsed.success) return fail(path, zodReason('sentinel', parsed.error));
  const rule = parsed.data;
  const techniques = unique((rule.relevantTechniques ?? []).map(normaliseTechniqueId).filter((id): id is string => id !== undefined));
  if (techniques.length === 0) return fail(path, 'sentinel: no ATT&CK technique (relevantTechniques)');
  const status = rule.status?.trim().toLowerCase();
  const deprecated = isUnderDeprecatedFolder(path) || DEPRECATED_MARK.test(rule.name) || DEPRECATED_MARK.test(path);
  // No status: published but not declared GA, so the middle rung.
  const maturity: RuleMaturity = deprecated ? 'deprecated' : (status && MATURITY[status]) || 'test';
  const severity = severityFrom(rule.severity ?? undefined);
  const platforms = sentinelPlatforms((rule.requiredDataConnectors ?? []).map((c) => c.connectorId ?? '').filter(Boolean));
  return {
    ok: true,
    value: {
      id: rule.id?.trim() || path,
      title: rule.name,
      format: 'sentinel',
      path,
      techniques,
      maturity,
      enabled: true,
      ...(severity ? { severity } : {}),
      dataSources: sentinelDataSources(rule.requiredDataConnectors),
      // Entity mappings and custom details are what a Sentinel incident gives the triager.
      hasEnrichment: (rule.entityMappings?.length ?? 0) > 0 || Object.keys(rule.customDetails ?? {}).length > 0,
      ...(platforms.length > 0 ? { platforms } : {}),
    },
  };
}

export function loadSentinelRule(text: string, path: string): Loaded<DetectionRule> {
  const parsed = parseYaml(text);
  if (!parsed.ok) return fail(path, parsed.reason);
  return sentinelRuleFromDocument(parsed.value, path);
}
