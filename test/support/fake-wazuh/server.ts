import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { walkRoot } from '../../../src/adapters/evidence/safe-files';
import { credentialOf, slice, startFakeApi, type FakeApi, type FakeApiOptions } from '../fake-rule-api';

/**
 * Stand-in of the Wazuh manager API 4.x, after its OpenAPI spec (../shared/samples/api/wazuh):
 *   POST /security/user/authenticate  basic auth → { data: { token }, error: 0 }, else 401
 *   GET  /rules?offset=&limit=        bearer token → { data: { affected_items, total_affected_items,
 *                                     total_failed_items, failed_items }, message, error: 0 }
 * `limit` is capped at 100000 as the API does (400 above); tokens can be revoked (`revokeTokens`).
 */

export type WazuhRuleJson = Record<string, unknown> & { id: number; level: number; status: string; filename: string };

export interface FakeWazuhOptions extends FakeApiOptions {
  user: string;
  password: string;
  rules: WazuhRuleJson[];
}

export interface FakeWazuh extends FakeApi {
  rules: WazuhRuleJson[];
  revokeTokens(): void;
  logins: number;
}

export async function startFakeWazuh(options: FakeWazuhOptions): Promise<FakeWazuh> {
  const tokens = new Set<string>();
  const state = { logins: 0 };
  const basic = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const api = await startFakeApi((req) => {
    if (req.method === 'POST' && req.path === '/security/user/authenticate') {
      if (credentialOf(req) !== basic) return { status: 401, body: { title: 'Unauthorized', detail: 'Invalid credentials' } };
      state.logins += 1;
      const token = `jwt-${state.logins}`;
      tokens.add(token);
      return { status: 200, body: { data: { token }, error: 0 } };
    }
    const auth = credentialOf(req) ?? '';
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) return { status: 401, body: { title: 'Unauthorized', detail: 'No authorization token provided' } };
    if (req.method !== 'GET' || req.path !== '/rules') return { status: 404, body: { title: 'Not Found', detail: req.path } };
    const offset = Number(req.query.get('offset') ?? 0);
    const limit = Number(req.query.get('limit') ?? 500);
    if (limit > 100000) return { status: 400, body: { title: 'Bad Request', detail: 'limit must be 100000 or less' } };
    return {
      status: 200,
      body: { data: { affected_items: slice(options.rules, offset, limit), total_affected_items: options.rules.length, total_failed_items: 0, failed_items: [] }, message: 'All selected rules were returned', error: 0 },
    };
  }, options);
  return Object.defineProperties(api, {
    rules: { value: options.rules, enumerable: true },
    revokeTokens: { value: () => tokens.clear() },
    logins: { get: () => state.logins, enumerable: true },
  }) as FakeWazuh;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, processEntities: false, isArray: (name) => ['group', 'rule', 'mitre', 'id'].includes(name) });

/**
 * Wazuh ruleset XML (../shared/samples/wazuh) as the manager's /rules lists it: every rule, with
 * `mitre` filled with the `<mitre><id>` texts verbatim and `groups` from the file and the rule.
 */
export async function wazuhRulesFromXml(dir: string): Promise<WazuhRuleJson[]> {
  const { files } = await walkRoot(dir, (n) => n.endsWith('.xml'));
  const rules: WazuhRuleJson[] = [];
  for (const f of files) {
    const doc = parser.parse(`<root>${readFileSync(f.absolute, 'utf8')}</root>`) as { root: { group?: Array<Record<string, unknown>> } };
    for (const g of doc.root.group ?? []) {
      const fileGroups = String(g['@_name'] ?? '').split(',').filter(Boolean);
      for (const r of (g.rule as Array<Record<string, unknown>>) ?? []) {
        const mitre = ((r.mitre as Array<{ id?: string[] }>) ?? []).flatMap((m) => m.id ?? []);
        const own = ((r.group as string[]) ?? []).flatMap((x) => String(x).split(',')).filter(Boolean);
        rules.push({ filename: basename(f.absolute), relative_dirname: 'ruleset/rules', id: Number(r['@_id']), level: Number(r['@_level']), status: 'enabled', details: {}, mitre, groups: [...fileGroups, ...own], description: String(r.description ?? '') });
      }
    }
  }
  return rules.sort((a, b) => a.id - b.id);
}
