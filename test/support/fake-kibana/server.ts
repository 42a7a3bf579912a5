import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { walkRoot } from '../../../src/adapters/evidence/safe-files';
import { credentialOf, slice, startFakeApi, type FakeApi, type FakeApiOptions } from '../fake-rule-api';

/**
 * Stand-in of the Kibana detection engine API (Security Detections API 2023-10-31), after the
 * published OpenAPI (../shared/samples/api/kibana): `GET [/s/<space>]/api/detection_engine/rules/_find`
 * with `page` (from 1) and `per_page` (default 20), answering `{ page, perPage, total, data }`;
 * `Authorization: ApiKey <key>` or 401 with Kibana's error body; a window past 10,000 rules is a 400
 * as Kibana's saved-object search refuses it; an unknown space is a 404.
 */

export type KibanaRuleJson = Record<string, unknown> & { rule_id: string; name: string; enabled: boolean };

export interface FakeKibanaOptions extends FakeApiOptions {
  apiKey: string;
  /** Rules by space id. */
  spaces: Record<string, KibanaRuleJson[]>;
}

export interface FakeKibana extends FakeApi {
  spaces: Record<string, KibanaRuleJson[]>;
}

const FIND = /^(?:\/s\/([^/]+))?\/api\/detection_engine\/rules\/_find$/;

export async function startFakeKibana(options: FakeKibanaOptions): Promise<FakeKibana> {
  const spaces = options.spaces;
  const api = await startFakeApi((req) => {
    if (credentialOf(req) !== `ApiKey ${options.apiKey}`) {
      return { status: 401, body: { statusCode: 401, error: 'Unauthorized', message: '[security_exception]: unable to authenticate user' } };
    }
    const m = FIND.exec(req.path);
    if (req.method !== 'GET' || !m) return { status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Not Found' } };
    const space = m[1] ? decodeURIComponent(m[1]) : 'default';
    const rules = spaces[space];
    if (!rules) return { status: 404, body: { statusCode: 404, error: 'Not Found', message: `Saved object [space/${space}] not found` } };
    const page = Number(req.query.get('page') ?? 1);
    const perPage = Number(req.query.get('per_page') ?? 20);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 0) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'invalid page or per_page' } };
    if (page * perPage > 10_000) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Result window is too large, page * perPage must be <= 10000' } };
    return { status: 200, body: { page, perPage, total: rules.length, data: slice(rules, (page - 1) * perPage, perPage) } };
  }, options);
  return Object.assign(api, { spaces });
}

/**
 * elastic/detection-rules TOML files (../shared/samples/elastic) as the API returns them once installed
 * as prebuilt rules: enabled, immutable, last execution succeeded at `at`.
 */
export async function kibanaRulesFromToml(dir: string, at = '2026-02-10T08:00:00.000Z'): Promise<KibanaRuleJson[]> {
  const { files } = await walkRoot(dir, (n) => n.endsWith('.toml'));
  return files.map((f, i) => {
    const doc = parseToml(readFileSync(f.absolute, 'utf8')) as { metadata?: { integration?: string | string[] }; rule: Record<string, unknown> };
    const r = doc.rule;
    const integration = doc.metadata?.integration;
    return {
      id: `so-${i}`,
      rule_id: String(r.rule_id),
      name: String(r.name),
      enabled: true,
      immutable: true,
      severity: r.severity,
      risk_score: r.risk_score,
      index: r.index,
      tags: r.tags,
      note: r.note,
      type: r.type,
      ...(r.building_block_type ? { building_block_type: r.building_block_type } : {}),
      threat: r.threat ?? [],
      related_integrations: (Array.isArray(integration) ? integration : integration ? [integration] : []).map((p) => ({ package: p, version: '^1.0.0' })),
      execution_summary: { last_execution: { date: at, status: 'succeeded', status_order: 0, message: 'Rule execution completed successfully', metrics: {} } },
    } as KibanaRuleJson;
  });
}
