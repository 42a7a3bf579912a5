import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { walkRoot } from '../../../src/adapters/evidence/safe-files';
import { credentialOf, startFakeApi, type FakeApi, type FakeApiOptions } from '../fake-rule-api';

/**
 * Stand-in of Entra ID's token endpoint and the Microsoft.SecurityInsights management API, after
 * their documentation and the azure-rest-api-specs examples (../shared/samples/api/sentinel):
 *   POST /<tenant>/oauth2/v2.0/token   client_credentials form → { token_type, expires_in, access_token },
 *                                      a wrong secret → 401 invalid_client (AADSTS7000215)
 *   GET  /subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.OperationalInsights/workspaces/<w>
 *        /providers/Microsoft.SecurityInsights/{alertRules,alertRuleTemplates}?api-version=…
 *                                      → { value[], nextLink } by pages of `pageSize` ($skipToken)
 * A request without the issued bearer token → 401 InvalidAuthenticationToken; no api-version → 400.
 */

export interface FakeSentinelOptions extends FakeApiOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  alertRules: Array<Record<string, unknown>>;
  templates: Array<Record<string, unknown>>;
  pageSize?: number;
}

export interface FakeSentinel extends FakeApi {
  alertRules: Array<Record<string, unknown>>;
  tokensIssued: number;
}

export async function startFakeSentinel(options: FakeSentinelOptions): Promise<FakeSentinel> {
  const pageSize = options.pageSize ?? 100;
  let issued = 0;
  let current = '';
  const base = `/subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${options.workspace}/providers/Microsoft.SecurityInsights`;
  const state = { alertRules: options.alertRules, tokensIssued: 0 };
  let url = '';
  const api = await startFakeApi((req) => {
    if (req.method === 'POST' && req.path === `/${options.tenantId}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(req.body);
      if (form.get('grant_type') !== 'client_credentials' || !form.get('scope')?.endsWith('/.default')) return { status: 400, body: { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain grant_type and scope.' } };
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return { status: 401, body: { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${options.clientId}'.` } };
      }
      issued += 1;
      state.tokensIssued = issued;
      current = `eyJ0eXAi.fake-token-${issued}`;
      return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: current } };
    }
    if (req.method === 'POST') return { status: 400, body: { error: 'invalid_tenant', error_description: 'AADSTS90002: Tenant not found.' } };
    if (!current || credentialOf(req) !== `Bearer ${current}`) return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } } };
    if (!req.query.get('api-version')) return { status: 400, body: { error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' } } };
    const all = req.path === `${base}/alertRules` ? state.alertRules : req.path === `${base}/alertRuleTemplates` ? options.templates : undefined;
    if (!all) return { status: 404, body: { error: { code: 'ResourceNotFound', message: `not found: ${req.path}` } } };
    const skip = Number(req.query.get('$skipToken') ?? 0);
    const value = all.slice(skip, skip + pageSize);
    const next = skip + pageSize < all.length ? `${url}${req.path}?api-version=${req.query.get('api-version')}&$skipToken=${skip + pageSize}` : undefined;
    return { status: 200, body: { value, ...(next ? { nextLink: next } : {}) } };
  }, options);
  url = api.url;
  // Accessors, not copies: Object.assign would freeze the values it reads.
  return Object.defineProperties(api, {
    alertRules: { get: () => state.alertRules, set: (v: Array<Record<string, unknown>>) => void (state.alertRules = v), enumerable: true },
    tokensIssued: { get: () => state.tokensIssued, enumerable: true },
  }) as FakeSentinel;
}

/**
 * Azure-Sentinel analytic rule templates (../shared/samples/sentinel) as the API returns them once
 * enabled in a workspace: Scheduled/NRT alert rules made from each template (techniques split into
 * `techniques` and `subTechniques` as the preview API does) and the templates with their connectors.
 */
export async function sentinelFromTemplates(dir: string, workspaceId: string): Promise<{ alertRules: Array<Record<string, unknown>>; templates: Array<Record<string, unknown>> }> {
  const { files } = await walkRoot(dir, (n) => n.endsWith('.yaml'));
  const alertRules: Array<Record<string, unknown>> = [];
  const templates: Array<Record<string, unknown>> = [];
  files.forEach((f, i) => {
    const t = loadYaml(readFileSync(f.absolute, 'utf8')) as Record<string, unknown> & { id: string; name: string; relevantTechniques?: string[] };
    const ids = (t.relevantTechniques ?? []).map(String);
    templates.push({ id: `${workspaceId}/alertRuleTemplates/${t.id}`, name: t.id, type: 'Microsoft.SecurityInsights/AlertRuleTemplates', kind: t.kind ?? 'Scheduled', properties: { displayName: t.name, requiredDataConnectors: t.requiredDataConnectors ?? [], tactics: t.tactics ?? [], techniques: ids } });
    const name = `rule-${String(i).padStart(4, '0')}`;
    alertRules.push({
      id: `${workspaceId}/alertRules/${name}`,
      name,
      type: 'Microsoft.SecurityInsights/alertRules',
      kind: t.kind ?? 'Scheduled',
      etag: `"${i}"`,
      properties: {
        alertRuleTemplateName: t.id,
        displayName: String(t.name).trim(),
        severity: t.severity,
        enabled: true,
        tactics: t.tactics ?? [],
        techniques: ids.filter((id) => !id.includes('.')),
        subTechniques: ids.filter((id) => id.includes('.')),
        query: t.query,
        entityMappings: t.entityMappings ?? null,
      },
    });
  });
  return { alertRules, templates };
}
