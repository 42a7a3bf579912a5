import type { Config } from '../../schemas/config';
import { RULE_SOURCE_NAMES, type RuleSource, type RuleSourceName } from '../adapters/evidence/rule-source';
import { HttpFailure, createJsonHttp, type JsonHttp } from '../adapters/http/json-http';
import { createTlsFetch, type TlsFetch } from '../adapters/http/tls-fetch';
import { createKibanaSource } from '../adapters/kibana/kibana-rules';
import { createSentinelSource } from '../adapters/sentinel/sentinel-rules';
import { createSplunkSource } from '../adapters/splunk/splunk-rules';
import { createWazuhSource } from '../adapters/wazuh/wazuh-rules';
import { ConfigError } from '../errors';
import { AssessInputError, type LoadEvidence } from './assess/assess';
import { loadConfig } from './config';
import type { Logger } from './logger';
import { loadEvidence as loadEvidenceFiles } from '../adapters/evidence';
import { describeSourceFailure } from '../adapters/evidence/rule-source';

/**
 * The SIEM rule sources built from the configuration (sections elastic_security, splunk, sentinel,
 * wazuh; shared limits in live_rules). The daemon uses every source whose address is set;
 * `assess --rules-from <name>` asks for one by name and gets an error naming what is missing.
 */

type Settings = Readonly<Config>;

/** Whether the daemon should read this source: its address is configured. */
export function isSourceConfigured(config: Settings, name: RuleSourceName): boolean {
  switch (name) {
    case 'kibana':
      return !!config.elastic_security.url;
    case 'splunk':
      return !!config.splunk.url;
    case 'sentinel':
      return !!config.sentinel.workspace;
    case 'wazuh':
      return !!config.wazuh.api_url;
  }
}

function requireSettings(name: RuleSourceName, pairs: Array<[string, unknown]>): void {
  const missing = pairs.filter(([, v]) => v === undefined || v === '').map(([env]) => env);
  if (missing.length > 0) throw new ConfigError(`rule source ${name}: missing ${missing.join(', ')}`);
}

interface Tls {
  verify: boolean;
  caFile?: string;
  caSetting: string;
  verifySetting: string;
}

export function createRuleSource(config: Settings, name: RuleSourceName, log?: Pick<Logger, 'warn'>): RuleSource {
  const lr = config.live_rules;
  const opened: TlsFetch[] = [];
  const tlsFetch = (tls: Tls): TlsFetch => {
    if (!tls.verify) log?.warn({ source: name }, `${tls.verifySetting}=false: the ${name} TLS certificate is NOT verified; anyone on the path can read its credentials`);
    const f = createTlsFetch({ verify: tls.verify, caSetting: tls.caSetting, maxResponseBytes: lr.max_response_bytes, ...(tls.caFile ? { caFile: tls.caFile } : {}) });
    opened.push(f);
    return f;
  };
  const http = (baseUrl: string, headers: Record<string, string>, f: TlsFetch): JsonHttp =>
    createJsonHttp({ baseUrl, headers, timeoutMs: lr.timeout_ms, maxAttempts: lr.max_attempts, backoffBaseMs: lr.backoff_base_ms, backoffMaxMs: lr.backoff_max_ms, fetchImpl: f.fetch });
  const paging = { pageSize: lr.page_size, maxRules: lr.max_rules };
  const withClose = (source: RuleSource): RuleSource => ({
    ...source,
    name: source.name,
    target: source.target,
    fetch: source.fetch,
    close: async () => {
      await source.close();
      await Promise.all(opened.map((f) => f.close().catch(() => undefined)));
    },
  });

  switch (name) {
    case 'kibana': {
      const c = config.elastic_security;
      requireSettings(name, [['ELASTIC_SECURITY_URL', c.url], ['ELASTIC_SECURITY_API_KEY', c.api_key]]);
      const f = tlsFetch({ verify: c.verify_ssl, caFile: c.ca_cert, caSetting: 'ELASTIC_SECURITY_CA_CERT', verifySetting: 'ELASTIC_SECURITY_VERIFY_SSL' });
      const headers = { authorization: `ApiKey ${c.api_key}`, 'elastic-api-version': '2023-10-31' };
      return withClose(createKibanaSource({ ...paging, http: http(c.url as string, headers, f), url: c.url as string, spaceId: c.space_id }));
    }
    case 'splunk': {
      const c = config.splunk;
      requireSettings(name, [['SPLUNK_URL', c.url], ['SPLUNK_TOKEN', c.token]]);
      const f = tlsFetch({ verify: c.verify_ssl, caFile: c.ca_cert, caSetting: 'SPLUNK_CA_CERT', verifySetting: 'SPLUNK_VERIFY_SSL' });
      return withClose(
        createSplunkSource({ ...paging, http: http(c.url as string, { authorization: `Bearer ${c.token}` }, f), url: c.url as string, app: c.app, correlationOnly: c.correlation_only, checkJobs: c.check_jobs }),
      );
    }
    case 'sentinel': {
      const c = config.sentinel;
      requireSettings(name, [
        ['SENTINEL_TENANT_ID', c.tenant_id],
        ['SENTINEL_CLIENT_ID', c.client_id],
        ['SENTINEL_CLIENT_SECRET', c.client_secret],
        ['SENTINEL_SUBSCRIPTION_ID', c.subscription_id],
        ['SENTINEL_RESOURCE_GROUP', c.resource_group],
        ['SENTINEL_WORKSPACE', c.workspace],
      ]);
      const f = tlsFetch({ verify: c.verify_ssl, caFile: c.ca_cert, caSetting: 'SENTINEL_CA_CERT', verifySetting: 'SENTINEL_VERIFY_SSL' });
      const tokenUrl = `${c.authority_url.replace(/\/+$/, '')}/${encodeURIComponent(c.tenant_id as string)}/oauth2/v2.0/token`;
      const requestToken = async (form: URLSearchParams, signal?: AbortSignal): Promise<unknown> => {
        const timeout = AbortSignal.timeout(lr.timeout_ms);
        let res: Response;
        try {
          res = await f.fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString(), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        } catch (err) {
          if (err instanceof HttpFailure) throw err;
          throw new HttpFailure('unreachable', `sentinel: token endpoint ${new URL(tokenUrl).origin} unreachable: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`, undefined, 1, { cause: err });
        }
        const body = (await res.json().catch(() => undefined)) as { error?: string; error_description?: string } | undefined;
        if (res.status === 400 || res.status === 401 || res.status === 403) {
          // Entra ID's description names the problem (AADSTS7000215 invalid secret…); it never echoes the secret.
          const why = [body?.error, body?.error_description?.split('\n', 1)[0]].filter(Boolean).join(': ');
          throw new HttpFailure('auth', `sentinel: the token endpoint refused the client credentials (HTTP ${res.status}${why ? `, ${why.slice(0, 300)}` : ''}): check SENTINEL_TENANT_ID, SENTINEL_CLIENT_ID, SENTINEL_CLIENT_SECRET`, res.status, 1);
        }
        if (res.status === 429 || res.status >= 500) throw new HttpFailure('unreachable', `sentinel: token endpoint answered HTTP ${res.status}`, res.status, 1);
        if (res.status < 200 || res.status >= 300) throw new HttpFailure('rejected', `sentinel: token endpoint answered HTTP ${res.status}`, res.status, 1);
        return body;
      };
      return withClose(
        createSentinelSource({
          ...paging,
          http: (token) => http(c.management_url, { authorization: `Bearer ${token}` }, f),
          requestToken,
          managementUrl: c.management_url,
          tenantId: c.tenant_id as string,
          clientId: c.client_id as string,
          clientSecret: c.client_secret as string,
          subscriptionId: c.subscription_id as string,
          resourceGroup: c.resource_group as string,
          workspace: c.workspace as string,
          apiVersion: c.api_version,
        }),
      );
    }
    case 'wazuh': {
      const c = config.wazuh;
      requireSettings(name, [['WAZUH_API_URL', c.api_url], ['WAZUH_API_USER', c.api_user], ['WAZUH_API_PASSWORD', c.api_password]]);
      const f = tlsFetch({ verify: c.verify_ssl, caFile: c.ca_cert, caSetting: 'WAZUH_CA_CERT', verifySetting: 'WAZUH_VERIFY_SSL' });
      const basic = Buffer.from(`${c.api_user}:${c.api_password}`).toString('base64');
      return withClose(
        createWazuhSource({
          ...paging,
          authHttp: http(c.api_url as string, { authorization: `Basic ${basic}` }, f),
          http: (token) => http(c.api_url as string, { authorization: `Bearer ${token}` }, f),
          url: c.api_url as string,
        }),
      );
    }
  }
}

/** Every source the configuration sets an address for, in a fixed order. */
export function configuredRuleSources(config: Settings, log?: Pick<Logger, 'warn'>): RuleSource[] {
  return RULE_SOURCE_NAMES.filter((name) => isSourceConfigured(config, name)).map((name) => createRuleSource(config, name, log));
}

/**
 * `assess --rules-from kibana|splunk|sentinel|wazuh`: the evidence loader of runAssess with the named
 * sources' rules read once (settings from env / config.yml, as the daemon reads them) beside the rule
 * files. A source that cannot be read stops the run (exit 2) with the source and the reason.
 */
export function evidenceFromRuleSources(names: readonly string[], config: Settings = loadConfig(), log?: Pick<Logger, 'warn'>): LoadEvidence {
  const unknown = names.filter((n) => !(RULE_SOURCE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new AssessInputError(`--rules-from ${unknown.join(',')}: expected ${RULE_SOURCE_NAMES.join(', ')}`);
  return async (options) => {
    const files = await loadEvidenceFiles(options);
    const sources = [...new Set(names)].map((n) => {
      try {
        return createRuleSource(config, n as RuleSourceName, log);
      } catch (err) {
        throw new AssessInputError(`--rules-from ${n}: ${describeSourceFailure(err).message}`, { cause: err });
      }
    });
    try {
      const inventories = await Promise.all(
        sources.map((s) =>
          s.fetch().catch((err: unknown) => {
            throw new AssessInputError(`--rules-from ${s.name}: ${s.target}: ${describeSourceFailure(err).message}`, { cause: err });
          }),
        ),
      );
      return { ...files, rules: [...files.rules, ...inventories.flatMap((i) => i.rules)], issues: [...files.issues, ...inventories.flatMap((i) => i.issues)] };
    } finally {
      await Promise.all(sources.map((s) => s.close()));
    }
  };
}
