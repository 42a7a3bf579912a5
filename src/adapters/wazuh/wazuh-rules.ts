import { WazuhApiRuleSchema, WazuhRulesPageSchema, WazuhTokenSchema, type WazuhApiRule } from '../../../schemas/rule-sources';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule } from '../../domain/evidence/evidence-types';
import { skippedIssue, type PagingLimits, type RuleSource, type SourceInventory } from '../evidence/rule-source';
import { wazuhSeverity } from '../evidence/wazuh-loader';
import { HttpFailure, type JsonHttp } from '../http/json-http';

/**
 * Wazuh manager API (4.x): `POST /security/user/authenticate` (basic auth) gives a JWT, then
 * `GET /rules?offset=&limit=` lists the rules as the manager loaded them. `status` is the rule
 * *file*'s state in the manager configuration (a disabled file's rules do not run); `mitre` holds the
 * `<mitre><id>` texts verbatim, so tactic ids and `$(field)` placeholders are dropped here as in the
 * XML loader. Level 0 rules never alert and do not count.
 */

export interface WazuhSourceOptions extends PagingLimits {
  /** Client for the authenticate call (carries the basic credentials). */
  authHttp: JsonHttp;
  /** Client for the API calls with a token. */
  http: (token: string) => JsonHttp;
  url: string;
}

export function wazuhApiRuleToDetection(rule: WazuhApiRule): DetectionRule | undefined {
  const ids = (rule.mitre ?? []).map((m) => (typeof m === 'string' ? m : m.id)).filter((id) => !id.includes('$('));
  const techniques = [...new Set(ids.map((id) => normaliseTechniqueId(id)).filter((id): id is string => id !== undefined))];
  if (techniques.length === 0) return undefined;
  const file = rule.filename ?? 'rules';
  return {
    id: `wazuh:${rule.id}`,
    title: rule.description?.trim() || `Wazuh rule ${rule.id}`,
    format: 'wazuh',
    path: `wazuh:${file}#${rule.id}`,
    techniques,
    maturity: 'stable',
    enabled: rule.status !== 'disabled' && rule.level > 0,
    severity: wazuhSeverity(rule.level),
    dataSources: [...new Set((rule.groups ?? []).map((g) => g.trim().toLowerCase()).filter((g) => g !== '' && !/^(pci_dss|gdpr|hipaa|nist_800_53|tsc|gpg13|cis)_/.test(g)))],
    hasEnrichment: false,
  };
}

export function createWazuhSource(options: WazuhSourceOptions): RuleSource {
  const target = options.url;
  let token: string | undefined;

  async function authenticate(signal?: AbortSignal): Promise<string> {
    const res = await options.authHttp.request<unknown>('POST', '/security/user/authenticate', undefined, signal ? { signal } : {});
    const parsed = WazuhTokenSchema.safeParse(res.body);
    if (!parsed.success) throw new HttpFailure('auth', `wazuh ${target}: the authenticate answer has no token (is WAZUH_API_URL the manager API, e.g. https://wazuh:55000?)`, res.status, 1);
    return parsed.data.data.token;
  }

  async function page(offset: number, signal?: AbortSignal): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      token ??= await authenticate(signal);
      try {
        const res = await options.http(token).request<unknown>('GET', '/rules', undefined, {
          query: { offset: String(offset), limit: String(options.pageSize), sort: '+id' },
          ...(signal ? { signal } : {}),
        });
        return res.body;
      } catch (err) {
        token = undefined;
        // Tokens last 900 s by default: one new token, then the refusal stands.
        if (err instanceof HttpFailure && err.kind === 'auth' && attempt === 1) continue;
        throw err;
      }
    }
  }

  return {
    name: 'wazuh',
    target,
    async fetch(signal) {
      const out: SourceInventory = { rules: [], issues: [], listed: 0 };
      const noTechnique: string[] = [];
      const malformed: string[] = [];
      for (let offset = 0; ; ) {
        const parsed = WazuhRulesPageSchema.safeParse(await page(offset, signal));
        if (!parsed.success) throw new HttpFailure('rejected', `wazuh ${target}: the /rules answer is not a rule list`, undefined, 1);
        const items = parsed.data.data.affected_items;
        for (const item of items) {
          out.listed += 1;
          const rule = WazuhApiRuleSchema.safeParse(item);
          if (!rule.success) {
            malformed.push(String((item as { id?: unknown })?.id ?? '?'));
            continue;
          }
          const mapped = wazuhApiRuleToDetection(rule.data);
          if (mapped) out.rules.push(mapped);
          else noTechnique.push(rule.data.description ?? String(rule.data.id));
        }
        offset += items.length;
        if (items.length === 0 || offset >= parsed.data.data.total_affected_items) break;
        if (out.listed >= options.maxRules) {
          out.issues.push({ path: `wazuh ${target}`, reason: `more than ${options.maxRules} rules (LIVE_RULES_MAX_RULES): the rest is not read` });
          break;
        }
      }
      // Most Wazuh rules carry no MITRE tag (decoders' parents, noise filters): counted, not listed.
      if (noTechnique.length > 0) out.issues.push({ path: `wazuh ${target}`, reason: `${noTechnique.length} of ${out.listed} rule(s) carry no ATT&CK technique (<mitre><id>), not scored` });
      out.issues.push(...skippedIssue('wazuh', target, malformed, 'are malformed'));
      return out;
    },
    close: async () => undefined,
  };
}
