import { KibanaFindPageSchema, KibanaRuleSchema, type KibanaRule } from '../../../schemas/rule-sources';
import type { ElasticRule } from '../../../schemas/evidence';
import type { DetectionRule } from '../../domain/evidence/evidence-types';
import { elasticDataSources, elasticTechniques } from '../evidence/elastic-loader';
import { severityFrom } from '../evidence/rule-common';
import { isoOrUndefined, skippedIssue, type PagingLimits, type RuleSource, type SourceInventory } from '../evidence/rule-source';
import { HttpFailure, type JsonHttp } from '../http/json-http';

/**
 * Elastic Security: the Kibana detection engine's rules, `GET [/s/<space>]/api/detection_engine/rules/_find`
 * paged with `page` / `per_page` (API key auth). A rule whose last execution `failed` does not count;
 * "partial failure" (e.g. max signals reached) still runs and still counts. Prebuilt (immutable)
 * rules are Elastic's production rules; custom rules have no maturity, so they rank as "test".
 * Techniques and data sources are read exactly as from the detection-rules TOML files, so the same
 * rule loaded both ways gives the same DetectionRule (same rule_id).
 */

export interface KibanaSourceOptions extends PagingLimits {
  http: JsonHttp;
  /** Kibana base URL, for `target` only (the http client already points at it). */
  url: string;
  spaceId: string;
}

/** Failed last execution: what `execution_summary.last_execution.status` says when the rule did not run. */
const FAILED = new Set(['failed']);

export function kibanaRuleToDetection(rule: KibanaRule, spaceId: string): DetectionRule | undefined {
  const techniques = elasticTechniques((rule.threat ?? []) as ElasticRule['rule']['threat']);
  if (techniques.length === 0) return undefined;
  const integrations = (rule.related_integrations ?? []).map((i) => i.package);
  // The same keys as a TOML rule: index patterns, integrations, "Data Source: X" tags.
  const dataSources = elasticDataSources({
    rule: { name: rule.name, index: rule.index ?? undefined, tags: rule.tags ?? undefined },
    metadata: { integration: integrations },
  } as ElasticRule);
  const severity = severityFrom(rule.severity ?? undefined);
  const riskScore = rule.risk_score ?? undefined;
  const last = rule.execution_summary?.last_execution;
  const failed = last?.status && FAILED.has(last.status.trim().toLowerCase());
  const since = isoOrUndefined(last?.date);
  return {
    id: rule.rule_id,
    title: rule.building_block_type ? `${rule.name} (building block)` : rule.name,
    format: 'elastic',
    path: `kibana:${spaceId}/${rule.rule_id}`,
    techniques,
    maturity: rule.immutable ? 'stable' : 'test',
    enabled: rule.enabled,
    ...(severity ? { severity } : {}),
    ...(riskScore !== undefined ? { riskScore } : {}),
    dataSources,
    hasEnrichment: (rule.note?.trim() ?? '') !== '' || riskScore !== undefined,
    // Building blocks feed other rules and raise no alert of their own (as in the TOML loader).
    ...(rule.building_block_type ? { buildingBlock: true } : {}),
    ...(failed ? { failing: { ...(since ? { since } : {}), ...(last?.message ? { message: last.message.slice(0, 300) } : {}) } } : {}),
  };
}

/** Space-aware API path: the default space has no prefix. */
export const kibanaApiPath = (spaceId: string, path: string): string => (spaceId && spaceId !== 'default' ? `/s/${encodeURIComponent(spaceId)}${path}` : path);

export function createKibanaSource(options: KibanaSourceOptions): RuleSource {
  const target = `${options.url} space ${options.spaceId}`;
  return {
    name: 'kibana',
    target,
    async fetch(signal) {
      const out: SourceInventory = { rules: [], issues: [], listed: 0 };
      const noTechnique: string[] = [];
      const malformed: string[] = [];
      for (let page = 1; ; page += 1) {
        const res = await options.http.request<unknown>('GET', kibanaApiPath(options.spaceId, '/api/detection_engine/rules/_find'), undefined, {
          query: { page: String(page), per_page: String(options.pageSize) },
          ...(signal ? { signal } : {}),
        });
        const parsed = KibanaFindPageSchema.safeParse(res.body);
        if (!parsed.success) throw new HttpFailure('rejected', `kibana ${target}: the _find answer is not a rule page (is ELASTIC_SECURITY_URL the Kibana URL?)`, res.status, 1);
        for (const item of parsed.data.data) {
          out.listed += 1;
          const rule = KibanaRuleSchema.safeParse(item);
          if (!rule.success) {
            malformed.push(String((item as { name?: unknown })?.name ?? (item as { rule_id?: unknown })?.rule_id ?? '?'));
            continue;
          }
          const mapped = kibanaRuleToDetection(rule.data, options.spaceId);
          if (mapped) out.rules.push(mapped);
          else noTechnique.push(rule.data.name);
        }
        const seen = (page - 1) * parsed.data.perPage + parsed.data.data.length;
        if (parsed.data.data.length === 0 || seen >= parsed.data.total) break;
        if (out.listed >= options.maxRules) {
          out.issues.push({ path: `kibana ${target}`, reason: `more than ${options.maxRules} rules (LIVE_RULES_MAX_RULES): the rest is not read` });
          break;
        }
      }
      out.issues.push(...skippedIssue('kibana', target, noTechnique, 'carry no MITRE ATT&CK technique in `threat`'), ...skippedIssue('kibana', target, malformed, 'are malformed'));
      return out;
    },
    close: async () => undefined,
  };
}
