import { ArmListSchema, OAuthTokenSchema, SentinelAlertRuleSchema, SentinelTemplateSchema, type SentinelAlertRule } from '../../../schemas/rule-sources';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, LoadIssue } from '../../domain/evidence/evidence-types';
import { severityFrom } from '../evidence/rule-common';
import { describeSourceFailure, skippedIssue, type PagingLimits, type RuleSource, type SourceInventory } from '../evidence/rule-source';
import { sentinelDataSources } from '../evidence/sentinel-loader';
import { HttpFailure, type JsonHttp } from '../http/json-http';

/**
 * Microsoft Sentinel analytics rules from the Azure management API:
 * `GET …/workspaces/<ws>/providers/Microsoft.SecurityInsights/alertRules?api-version=…`, paged by
 * `nextLink`, with a bearer token from OAuth client credentials (Entra ID `…/<tenant>/oauth2/v2.0/token`,
 * scope `<management>/.default`). Rules keep `enabled`, `techniques` and (preview API) `subTechniques`.
 * Data sources come from the rule's template (`alertRuleTemplates`, `requiredDataConnectors`), read
 * once per refresh; a rule made from no template has none. The API gives no last-run status.
 */

export interface SentinelSourceOptions extends PagingLimits {
  /** Management API client (base https://management.azure.com); its Authorization is set per call. */
  http: (token: string) => JsonHttp;
  /** Posts the client-credentials form and returns the parsed JSON (no retries: the refresh retries). */
  requestToken: (form: URLSearchParams, signal?: AbortSignal) => Promise<unknown>;
  managementUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  apiVersion: string;
  /** For tests: the clock that ages the token. */
  now?: () => number;
}

const DEPRECATED_MARK = /\[deprecated\]/i;

export function sentinelRuleToDetection(rule: SentinelAlertRule, workspace: string, connectors: ReadonlyMap<string, string[]>): DetectionRule | undefined {
  const p = rule.properties;
  const ids = [...(p.techniques ?? []), ...(p.subTechniques ?? [])];
  const techniques = [...new Set(ids.map((id) => normaliseTechniqueId(id)).filter((id): id is string => id !== undefined))];
  if (techniques.length === 0) return undefined;
  const severity = severityFrom(p.severity ?? undefined);
  const template = p.alertRuleTemplateName ?? undefined;
  return {
    // The template id is the YAML template's id: a rule and its template file match.
    id: template || rule.name,
    title: p.displayName,
    format: 'sentinel',
    path: `sentinel:${workspace}/${rule.name}`,
    techniques,
    maturity: DEPRECATED_MARK.test(p.displayName) ? 'deprecated' : 'stable',
    enabled: p.enabled,
    ...(severity ? { severity } : {}),
    dataSources: template ? (connectors.get(template.toLowerCase()) ?? []) : [],
    hasEnrichment: (p.entityMappings?.length ?? 0) > 0 || Object.keys(p.customDetails ?? {}).length > 0,
  };
}

export function createSentinelSource(options: SentinelSourceOptions): RuleSource {
  const now = options.now ?? Date.now;
  const management = new URL(options.managementUrl);
  const workspacePath =
    `/subscriptions/${encodeURIComponent(options.subscriptionId)}/resourceGroups/${encodeURIComponent(options.resourceGroup)}` +
    `/providers/Microsoft.OperationalInsights/workspaces/${encodeURIComponent(options.workspace)}/providers/Microsoft.SecurityInsights`;
  const target = `${management.origin} workspace ${options.resourceGroup}/${options.workspace}`;
  let token: { value: string; expiresAt: number } | undefined;

  async function bearer(signal?: AbortSignal): Promise<string> {
    if (token && token.expiresAt > now() + 60_000) return token.value;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      scope: `${management.origin}/.default`,
    });
    const parsed = OAuthTokenSchema.safeParse(await options.requestToken(form, signal));
    if (!parsed.success) throw new HttpFailure('auth', `sentinel: the token endpoint answered without an access_token (check SENTINEL_TENANT_ID and SENTINEL_AUTHORITY_URL)`, undefined, 1);
    const seconds = Number(parsed.data.expires_in ?? 3600);
    token = { value: parsed.data.access_token, expiresAt: now() + (Number.isFinite(seconds) ? seconds : 3600) * 1000 };
    return token.value;
  }

  /** Every item of an ARM list, following nextLink only on the management host (the token goes nowhere else). */
  async function listAll(path: string, what: string, signal?: AbortSignal): Promise<unknown[]> {
    const items: unknown[] = [];
    let next: string | undefined = `${path}?api-version=${encodeURIComponent(options.apiVersion)}`;
    while (next) {
      let res;
      try {
        res = await options.http(await bearer(signal)).request<unknown>('GET', next, undefined, signal ? { signal } : {});
      } catch (err) {
        // An expired or revoked token: ask for a new one at the next refresh.
        if (err instanceof HttpFailure && err.kind === 'auth') token = undefined;
        throw err;
      }
      const parsed = ArmListSchema.safeParse(res.body);
      if (!parsed.success) throw new HttpFailure('rejected', `sentinel ${target}: the ${what} answer is not an ARM list`, res.status, 1);
      items.push(...parsed.data.value);
      if (items.length >= options.maxRules) break;
      next = undefined;
      if (parsed.data.nextLink) {
        const link = new URL(parsed.data.nextLink, management);
        if (link.origin !== management.origin) throw new HttpFailure('rejected', `sentinel ${target}: nextLink points at another host (${link.origin}); not followed`, res.status, 1);
        next = `${link.pathname}${link.search}`;
      }
    }
    return items;
  }

  async function templateConnectors(signal: AbortSignal | undefined, issues: LoadIssue[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    try {
      for (const item of await listAll(`${workspacePath}/alertRuleTemplates`, 'alertRuleTemplates', signal)) {
        const t = SentinelTemplateSchema.safeParse(item);
        if (!t.success) continue;
        const connectors = (t.data.properties.requiredDataConnectors ?? []).map((c) => ({ connectorId: c.connectorId ?? undefined, dataTypes: c.dataTypes ?? [] }));
        out.set(t.data.name.toLowerCase(), sentinelDataSources(connectors));
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      issues.push({ path: `sentinel ${target}`, reason: `rule templates not readable (${describeSourceFailure(err).message}): rules have no data sources` });
    }
    return out;
  }

  return {
    name: 'sentinel',
    target,
    async fetch(signal) {
      const out: SourceInventory = { rules: [], issues: [], listed: 0 };
      const items = await listAll(`${workspacePath}/alertRules`, 'alertRules', signal);
      const connectors = await templateConnectors(signal, out.issues);
      const noTechnique: string[] = [];
      const malformed: string[] = [];
      for (const item of items) {
        out.listed += 1;
        const rule = SentinelAlertRuleSchema.safeParse(item);
        if (!rule.success) {
          malformed.push(String((item as { name?: unknown })?.name ?? '?'));
          continue;
        }
        const mapped = sentinelRuleToDetection(rule.data, options.workspace, connectors);
        if (mapped) out.rules.push(mapped);
        else noTechnique.push(`${rule.data.properties.displayName} (${rule.data.kind ?? 'no kind'})`);
      }
      if (items.length >= options.maxRules) out.issues.push({ path: `sentinel ${target}`, reason: `more than ${options.maxRules} rules (LIVE_RULES_MAX_RULES): the rest is not read` });
      out.issues.push(...skippedIssue('sentinel', target, noTechnique, 'carry no technique (Fusion, Microsoft incident creation, or no `techniques`)'), ...skippedIssue('sentinel', target, malformed, 'are malformed'));
      return out;
    },
    close: async () => undefined,
  };
}
