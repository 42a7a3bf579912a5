import { ElasticRuleSchema, type ElasticRule } from '../../../schemas/evidence';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, RuleMaturity } from '../../domain/evidence/evidence-types';
import { fail, parseToml, unique, zodReason, type Loaded } from './parse-text';
import { isUnderDeprecatedFolder, severityFrom } from './rule-common';
import { elasticPlatforms } from './rule-platforms';

/**
 * elastic/detection-rules TOML. Techniques come from `[[rule.threat]]` entries whose framework is
 * MITRE ATT&CK: technique ids and their sub-technique ids; a tactic-only entry adds nothing.
 */

const MATURITY: Record<string, RuleMaturity> = {
  production: 'stable',
  development: 'experimental',
  deprecated: 'deprecated',
};

const DATA_SOURCE_TAG = /^data source:\s*(.+)$/i;

export function elasticTechniques(threats: ElasticRule['rule']['threat']): string[] {
  const ids: string[] = [];
  for (const threat of threats ?? []) {
    if (threat.framework.trim().toLowerCase() !== 'mitre att&ck') continue;
    for (const technique of threat.technique ?? []) {
      ids.push(technique.id, ...(technique.subtechnique ?? []).map((s) => s.id));
    }
  }
  return unique(ids.map(normaliseTechniqueId).filter((id): id is string => id !== undefined));
}

/** Index patterns, `[metadata] integration` names and "Data Source: X" tags, lower-cased. */
export function elasticDataSources(rule: ElasticRule): string[] {
  const integration = rule.metadata?.integration;
  const integrations = Array.isArray(integration) ? integration : integration ? [integration] : [];
  const tagged = (rule.rule.tags ?? []).map((t) => DATA_SOURCE_TAG.exec(t)?.[1]).filter((t): t is string => t !== undefined);
  return unique([...(rule.rule.index ?? []), ...integrations, ...tagged].map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
}

/** An already-parsed Elastic TOML document → rule. */
export function elasticRuleFromDocument(doc: unknown, path: string): Loaded<DetectionRule> {
  const parsed = ElasticRuleSchema.safeParse(doc);
  if (!parsed.success) return fail(path, zodReason('elastic', parsed.error));
  const data = parsed.data;
  const techniques = elasticTechniques(data.rule.threat);
  if (techniques.length === 0) return fail(path, 'elastic: no ATT&CK technique in [[rule.threat]]');
  const maturityText = data.metadata?.maturity?.trim().toLowerCase();
  const maturity: RuleMaturity = isUnderDeprecatedFolder(path) ? 'deprecated' : (maturityText && MATURITY[maturityText]) || 'experimental';
  const severity = severityFrom(data.rule.severity);
  const riskScore = data.rule.risk_score;
  const platforms = elasticPlatforms(data.rule);
  return {
    ok: true,
    value: {
      id: data.rule.rule_id?.trim() || path,
      title: data.rule.name,
      format: 'elastic',
      path,
      techniques,
      maturity,
      enabled: data.rule.enabled ?? true,
      ...(severity ? { severity } : {}),
      ...(riskScore !== undefined ? { riskScore } : {}),
      dataSources: elasticDataSources(data),
      hasEnrichment: (data.rule.note?.trim() ?? '') !== '' || riskScore !== undefined,
      ...(platforms.length > 0 ? { platforms } : {}),
      // Building blocks feed other rules and raise no alert of their own (docs/scoring.md).
      ...(data.rule.building_block_type ? { buildingBlock: true } : {}),
    },
  };
}

/** Elastic TOML text → rule, or the issue that replaces it. */
export function loadElasticRule(text: string, path: string): Loaded<DetectionRule> {
  const parsed = parseToml(text);
  if (!parsed.ok) return fail(path, parsed.reason);
  return elasticRuleFromDocument(parsed.value, path);
}
