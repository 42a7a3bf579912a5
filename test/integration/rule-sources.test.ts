import { Writable } from 'node:stream';
import pino from 'pino';
import { HttpFailure, createJsonHttp } from '../../src/adapters/http/json-http';
import { createKibanaSource } from '../../src/adapters/kibana/kibana-rules';
import { parseConfig } from '../../src/app/config';
import { startLiveEvidence } from '../../src/app/embedded-setup';
import { daemonStatus } from '../../src/app/http-server';
import { startLiveRules } from '../../src/app/live-rules';
import { createRuleSource } from '../../src/app/rule-sources';
import type { RuleSource } from '../../src/adapters/evidence/rule-source';
import { coverageRequest } from '../support/coverage-request';
import { describeWhen, describeWithShared, hasShared, sharedPath } from '../support/env';
import { kibanaRulesFromToml, startFakeKibana, type FakeKibana, type KibanaRuleJson } from '../support/fake-kibana/server';
import { sentinelFromTemplates, startFakeSentinel, type FakeSentinel } from '../support/fake-sentinel/server';
import { splunkJob, splunkSearchesFromDetections, startFakeSplunk, type FakeSplunk } from '../support/fake-splunk/server';
import { startFakeWazuh, wazuhRulesFromXml, type FakeWazuh } from '../support/fake-wazuh/server';
import { createTestCa, hasOpenssl, OPENSSL_SKIP_REASON, type TestCa } from '../support/tls-ca';

/**
 * The four SIEM rule sources against in-process stand-ins of their APIs, fed with the real rule
 * samples of ../shared converted to each API's shape: paging, auth failures, 429 + Retry-After, TLS
 * with a CA the test creates, failing rules, and the daemon keeping the last good inventory.
 */

const API_KEY = 'a2liYW5hLWtleS1pZDpzM2NyM3Q=';
const SPLUNK_TOKEN = 'eyJraWQiOiJzcGx1bmsuc2VjcmV0In0.splunk-token-value';
const SECRET = 'Sentinel~Client~Secret~0123456789';
const WAZUH_PASSWORD = 'Wazuh-Pass-4-Tests!';
const FAST = { LIVE_RULES_MAX_ATTEMPTS: '2', LIVE_RULES_BACKOFF_BASE_MS: '1', LIVE_RULES_BACKOFF_MAX_MS: '5', LIVE_RULES_TIMEOUT_MS: '3000' };

/** Config from env-style names, the way the daemon reads it. */
function configOf(env: Record<string, string>) {
  const raw: Record<string, Record<string, string>> = {};
  const sections = ['live_rules', 'elastic_security', 'splunk', 'sentinel', 'wazuh'];
  for (const [k, v] of Object.entries({ ...FAST, ...env })) {
    const section = sections.find((s) => k.toLowerCase().startsWith(`${s}_`)) as string;
    (raw[section] ??= {})[k.toLowerCase().slice(section.length + 1)] = v;
  }
  return parseConfig(raw);
}

const silent = { info: () => undefined, warn: () => undefined };

describeWithShared('Kibana detection engine source', () => {
  let kibana: FakeKibana;
  let rules: KibanaRuleJson[];
  beforeAll(async () => {
    rules = await kibanaRulesFromToml(sharedPath('samples/elastic/rules'));
    kibana = await startFakeKibana({ apiKey: API_KEY, spaces: { default: rules, soc: rules.slice(0, 7) } });
  });
  afterAll(() => kibana.close());
  const source = (env: Record<string, string> = {}): RuleSource =>
    createRuleSource(configOf({ ELASTIC_SECURITY_URL: kibana.url, ELASTIC_SECURITY_API_KEY: API_KEY, LIVE_RULES_PAGE_SIZE: '50', ...env }), 'kibana');

  it('pages through _find and maps the real rules like their TOML files (same rule_id, techniques, data sources)', async () => {
    kibana.requests.length = 0;
    const inventory = await source().fetch();
    expect(kibana.requests.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect(kibana.requests[0].headers['elastic-api-version']).toBe('2023-10-31');
    expect(inventory.listed).toBe(rules.length);
    const withThreat = rules.filter((r) => JSON.stringify(r.threat).includes('"technique"'));
    expect(inventory.rules.length).toBeGreaterThan(100);
    expect(inventory.rules.length).toBeLessThanOrEqual(withThreat.length);
    const systemd = inventory.rules.find((r) => r.id === '0b76ad27-c3f3-4769-9e7e-3237137fdf06');
    expect(systemd).toMatchObject({ format: 'elastic', maturity: 'stable', enabled: true, path: 'kibana:default/0b76ad27-c3f3-4769-9e7e-3237137fdf06', hasEnrichment: true });
    expect(systemd?.dataSources).toEqual(expect.arrayContaining(['logs-endpoint.events.process*', 'endpoint']));
    expect(inventory.issues[0]?.reason ?? '').toMatch(/^(\d+ rule\(s\) carry no MITRE ATT&CK technique|$)/);
  });

  it('reads the configured space under /s/<space>', async () => {
    const inventory = await source({ ELASTIC_SECURITY_SPACE_ID: 'soc' }).fetch();
    expect(inventory.listed).toBe(7);
    expect(kibana.requests.at(-1)?.path).toBe('/s/soc/api/detection_engine/rules/_find');
  });

  it('marks a rule whose last execution failed, and keeps a partial failure counted', async () => {
    const [a, b] = rules.filter((r) => JSON.stringify(r.threat).includes('"technique"')).slice(3, 5);
    const saved = [a.execution_summary, b.execution_summary];
    a.execution_summary = { last_execution: { date: '2026-02-11T06:00:00.000Z', status: 'failed', message: 'index_not_found_exception: no such index [logs-endpoint.events.process*]' } };
    b.execution_summary = { last_execution: { date: '2026-02-11T06:00:00.000Z', status: 'partial failure', message: 'max signals reached' } };
    try {
      const inventory = await source().fetch();
      expect(inventory.rules.find((r) => r.id === a.rule_id)?.failing).toEqual({ since: '2026-02-11T06:00:00.000Z', message: 'index_not_found_exception: no such index [logs-endpoint.events.process*]' });
      expect(inventory.rules.find((r) => r.id === b.rule_id)?.failing).toBeUndefined();
    } finally {
      [a.execution_summary, b.execution_summary] = saved;
    }
  });

  it('fails with an auth error, naming nothing secret, when the API key is refused', async () => {
    const err = await source({ ELASTIC_SECURITY_API_KEY: 'wrong-key-value' }).fetch().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpFailure);
    expect((err as HttpFailure).kind).toBe('auth');
    expect((err as HttpFailure).message).toMatch(/HTTP 401 \(credentials refused\)/);
    expect((err as HttpFailure).message).not.toContain('wrong-key-value');
  });

  it('waits as long as Retry-After says on a 429 (up to the backoff cap), then goes on', async () => {
    const waits: number[] = [];
    const http = createJsonHttp({ baseUrl: kibana.url, headers: { authorization: `ApiKey ${API_KEY}` }, timeoutMs: 3000, maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 60_000, sleep: async (ms) => void waits.push(ms) });
    kibana.failNext(1, 429, { headers: { 'retry-after': '7' } });
    const inventory = await createKibanaSource({ http, url: kibana.url, spaceId: 'default', pageSize: 500, maxRules: 100_000 }).fetch();
    expect(waits).toEqual([7000]);
    expect(inventory.listed).toBe(rules.length);
  });
});

describeWithShared('Splunk saved-search source', () => {
  let splunk: FakeSplunk;
  beforeAll(async () => {
    const searches = await splunkSearchesFromDetections(sharedPath('samples/splunk/detections'));
    searches.push({ name: 'Weekly license report', acl: { app: 'search', owner: 'admin' }, content: { search: 'index=_internal | stats count', disabled: false, is_scheduled: true } });
    searches.push({ name: 'Custom - Rare parent process - Rule', acl: { app: 'SplunkEnterpriseSecuritySuite', owner: 'admin' }, content: { search: '| tstats count from datamodel=Endpoint.Processes', disabled: false, is_scheduled: true, 'action.correlationsearch.enabled': '1' } });
    searches[1].content.disabled = true;
    searches[2].content.is_scheduled = false;
    const failing = searches[0].name;
    splunk = await startFakeSplunk({
      token: SPLUNK_TOKEN,
      searches,
      jobs: [splunkJob(failing, '2026-02-11T05:00:00.000Z', true), splunkJob(failing, '2026-02-10T05:00:00.000Z', false), splunkJob(searches[3].name, '2026-02-11T05:00:00.000Z', false)],
    });
  });
  afterAll(() => splunk.close());
  const source = (env: Record<string, string> = {}): RuleSource => createRuleSource(configOf({ SPLUNK_URL: splunk.url, SPLUNK_TOKEN, LIVE_RULES_PAGE_SIZE: '20', ...env }), 'splunk');

  it('pages count/offset, keeps annotated correlation searches, and reads disabled, unscheduled and failed ones', async () => {
    splunk.requests.length = 0;
    const inventory = await source().fetch();
    const savedCalls = splunk.requests.filter((r) => r.path.endsWith('/saved/searches'));
    expect(savedCalls.map((r) => r.query.get('offset'))).toEqual(['0', '20', '40']);
    expect(inventory.listed).toBe(splunk.searches.length);
    const [failing, disabled, unscheduled, healthy] = splunk.searches.map((s) => inventory.rules.find((r) => r.title === s.name));
    expect(failing?.failing).toEqual({ since: '2026-02-11T05:00:00.000Z', message: "Error in 'SearchParser': The search specifies a macro that cannot be found" });
    expect(disabled?.enabled).toBe(false);
    expect(unscheduled?.enabled).toBe(false);
    expect(healthy).toMatchObject({ enabled: true, format: 'splunk', maturity: 'stable' });
    expect(healthy?.failing).toBeUndefined();
    expect(inventory.rules.some((r) => r.title === 'Weekly license report')).toBe(false);
    expect(inventory.rules.every((r) => r.techniques.length > 0)).toBe(true);
    expect(inventory.issues.map((i) => i.reason)).toEqual(['1 rule(s) carry no mitre_attack annotation (action.correlationsearch.annotations), not scored (e.g. "Custom - Rare parent process - Rule")']);
  });

  it('reports unreadable search jobs as an issue and still loads the searches (the failed one then counts)', async () => {
    splunk.failNext(2, 503, { path: '/services/search/jobs' });
    const inventory = await source().fetch();
    expect(inventory.rules.length).toBe(53);
    expect(inventory.rules.some((r) => r.failing)).toBe(false);
    expect(inventory.issues.map((i) => i.reason).join('\n')).toMatch(/search jobs not readable \(GET .*HTTP 503.*\(after 2 attempt\(s\)\)\): failing searches cannot be told apart, every enabled search counts/);
  });

  it('fails with an auth error on a refused token', async () => {
    const err = (await source({ SPLUNK_TOKEN: 'not-the-token' }).fetch().catch((e: unknown) => e)) as HttpFailure;
    expect(err.kind).toBe('auth');
  });
});

describeWithShared('Microsoft Sentinel alertRules source', () => {
  let sentinel: FakeSentinel;
  const ids = { tenantId: 'f1e2d3c4-0000-4000-8000-000000000001', clientId: 'c0ffee00-0000-4000-8000-000000000002', subscriptionId: 'd0cfe6b2-9ac0-4464-9919-dccaee2e48c0', resourceGroup: 'soc-rg', workspace: 'soc-ws' };
  let env: Record<string, string>;
  beforeAll(async () => {
    const data = await sentinelFromTemplates(sharedPath('samples/sentinel'), `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ids.workspace}/providers/Microsoft.SecurityInsights`);
    data.alertRules.push({ name: 'fusion', kind: 'Fusion', properties: { displayName: 'Advanced Multi-Stage Attack Detection', enabled: false, tactics: ['Persistence'] } });
    (data.alertRules[5].properties as { enabled: boolean }).enabled = false;
    sentinel = await startFakeSentinel({ ...ids, clientSecret: SECRET, ...data, pageSize: 10 });
    env = {
      SENTINEL_TENANT_ID: ids.tenantId,
      SENTINEL_CLIENT_ID: ids.clientId,
      SENTINEL_CLIENT_SECRET: SECRET,
      SENTINEL_SUBSCRIPTION_ID: ids.subscriptionId,
      SENTINEL_RESOURCE_GROUP: ids.resourceGroup,
      SENTINEL_WORKSPACE: ids.workspace,
      SENTINEL_AUTHORITY_URL: sentinel.url,
      SENTINEL_MANAGEMENT_URL: sentinel.url,
      SENTINEL_API_VERSION: '2025-07-01-preview',
    };
  });
  afterAll(() => sentinel.close());

  it('gets one token, follows nextLink, maps techniques + subTechniques and the template connectors', async () => {
    const src = createRuleSource(configOf(env), 'sentinel');
    const inventory = await src.fetch();
    const again = await src.fetch();
    expect(sentinel.tokensIssued).toBe(1);
    expect(again.rules).toHaveLength(inventory.rules.length);
    expect(inventory.listed).toBe(24);
    expect(inventory.rules).toHaveLength(21);
    const cross = inventory.rules.find((r) => r.title === 'Cross-tenant Access Settings Organization Added');
    expect(cross?.techniques).toEqual(['T1078.004', 'T1136.003', 'T1087.004']);
    expect(cross?.dataSources).toEqual(['azureactivedirectory', 'auditlogs']);
    expect(inventory.rules.filter((r) => !r.enabled)).toHaveLength(1);
    expect(inventory.issues.map((i) => i.reason).join('\n')).toMatch(/3 rule\(s\) carry no technique/);
  });

  it('says which settings to check when Entra ID refuses the client secret, without the secret', async () => {
    const err = (await createRuleSource(configOf({ ...env, SENTINEL_CLIENT_SECRET: 'wrong-secret-value' }), 'sentinel').fetch().catch((e: unknown) => e)) as HttpFailure;
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/AADSTS7000215.*check SENTINEL_TENANT_ID, SENTINEL_CLIENT_ID, SENTINEL_CLIENT_SECRET/);
    expect(err.message).not.toContain('wrong-secret-value');
  });

  it('names every missing setting', () => {
    expect(() => createRuleSource(configOf({ SENTINEL_WORKSPACE: 'ws' }), 'sentinel')).toThrow(
      'rule source sentinel: missing SENTINEL_TENANT_ID, SENTINEL_CLIENT_ID, SENTINEL_CLIENT_SECRET, SENTINEL_SUBSCRIPTION_ID, SENTINEL_RESOURCE_GROUP',
    );
  });
});

describeWithShared('Wazuh API source', () => {
  let wazuh: FakeWazuh;
  beforeAll(async () => {
    const rules = await wazuhRulesFromXml(sharedPath('samples/wazuh/ruleset/rules'));
    for (const r of rules) if (r.filename === '0095-sshd_rules.xml') r.status = 'disabled';
    wazuh = await startFakeWazuh({ user: 'coverage', password: WAZUH_PASSWORD, rules });
  });
  afterAll(() => wazuh.close());
  const source = (): RuleSource => createRuleSource(configOf({ WAZUH_API_URL: wazuh.url, WAZUH_API_USER: 'coverage', WAZUH_API_PASSWORD: WAZUH_PASSWORD, LIVE_RULES_PAGE_SIZE: '200' }), 'wazuh');

  it('authenticates, pages /rules and maps the same 299 technique rules as the XML loader; a disabled file does not count', async () => {
    const inventory = await source().fetch();
    expect(inventory.listed).toBe(605);
    expect(inventory.rules).toHaveLength(299);
    const sshd = inventory.rules.filter((r) => r.path.startsWith('wazuh:0095-sshd_rules.xml'));
    expect(sshd).toHaveLength(17);
    expect(sshd.every((r) => !r.enabled)).toBe(true);
    expect(inventory.issues[0].reason).toBe('306 of 605 rule(s) carry no ATT&CK technique (<mitre><id>), not scored');
  });

  it('logs in again once when its token is refused (expired), then goes on', async () => {
    const src = source();
    await src.fetch();
    const logins = wazuh.logins;
    wazuh.revokeTokens();
    await src.fetch();
    expect(wazuh.logins).toBe(logins + 1);
  });
});

describeWhen(hasOpenssl() && hasShared, hasOpenssl() ? '../shared is absent' : OPENSSL_SKIP_REASON)('TLS to a source (with a test CA)', () => {
  let ca: TestCa;
  let kibana: FakeKibana;
  beforeAll(async () => {
    ca = createTestCa();
    kibana = await startFakeKibana({ apiKey: API_KEY, spaces: { default: (await kibanaRulesFromToml(sharedPath('samples/elastic/rules'))).slice(0, 5) }, tls: { key: ca.serverKey, cert: ca.serverCert } });
  });
  afterAll(async () => {
    await kibana.close();
    ca.cleanup();
  });
  const env = (): Record<string, string> => ({ ELASTIC_SECURITY_URL: kibana.url, ELASTIC_SECURITY_API_KEY: API_KEY });

  it('verifies by default: an unknown CA is refused with the setting to fix, not retried', async () => {
    kibana.requests.length = 0;
    const err = (await createRuleSource(configOf(env()), 'kibana').fetch().catch((e: unknown) => e)) as HttpFailure;
    expect(err.message).toMatch(/not trusted .*set ELASTIC_SECURITY_CA_CERT/);
    expect(kibana.requests).toHaveLength(0);
  });

  it('trusts ELASTIC_SECURITY_CA_CERT, or skips verification only when ELASTIC_SECURITY_VERIFY_SSL=false (and says so)', async () => {
    expect((await createRuleSource(configOf({ ...env(), ELASTIC_SECURITY_CA_CERT: ca.caFile }), 'kibana').fetch()).listed).toBe(5);
    const warnings: string[] = [];
    const src = createRuleSource(configOf({ ...env(), ELASTIC_SECURITY_VERIFY_SSL: 'false' }), 'kibana', { warn: (_o: object, m: string) => void warnings.push(m) } as never);
    expect((await src.fetch()).listed).toBe(5);
    expect(warnings[0]).toMatch(/ELASTIC_SECURITY_VERIFY_SSL=false: the kibana TLS certificate is NOT verified/);
  });

  it('refuses a CA file that is not PEM, naming the setting', () => {
    expect(() => createRuleSource(configOf({ ...env(), ELASTIC_SECURITY_CA_CERT: ca.serverKey ? `${ca.dir}/server.csr` : '' }), 'kibana')).toThrow(/ELASTIC_SECURITY_CA_CERT: .* holds no PEM certificate/);
  });
});

describeWithShared('live rule inventories in the daemon', () => {
  let kibana: FakeKibana;
  beforeAll(async () => {
    kibana = await startFakeKibana({ apiKey: API_KEY, spaces: { default: await kibanaRulesFromToml(sharedPath('samples/elastic/rules')) } });
  });
  afterAll(() => kibana.close());

  it('scores the live rules; keeps the last good inventory when the source goes down, and says so in /status and the explanation', async () => {
    const config = configOf({ ELASTIC_SECURITY_URL: kibana.url, ELASTIC_SECURITY_API_KEY: API_KEY });
    const lines: string[] = [];
    // A raw pino without the daemon's scrubbing: what our code logs must not hold a credential by itself.
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    const live = await startLiveEvidence(config, log, { watch: false });
    const rule = kibana.spaces.default.find((r) => r.rule_id === '0b76ad27-c3f3-4769-9e7e-3237137fdf06') as KibanaRuleJson;
    try {
      const loaded = live.evidence.rules.find((r) => r.id === rule.rule_id);
      const technique = loaded?.techniques[0] as string;
      const assessor = live.createEmbedded(live.evidence);
      const assess = () => assessor.assess(coverageRequest([technique]), { now: new Date('2026-02-12T09:00:00.000Z') });
      expect((await assess()).techniques[0].rules).toContain(rule.rule_id);
      expect(live.ruleSources?.()).toEqual([expect.objectContaining({ source: 'kibana', state: 'ok', error: null })]);

      // The rule starts failing: it no longer counts, and the explanation says since when.
      const saved = rule.execution_summary;
      rule.execution_summary = { last_execution: { date: '2026-02-12T07:00:00.000Z', status: 'failed', message: 'missing index' } };
      await live.refreshRuleSources?.();
      rule.execution_summary = saved;
      const failing = (await assess()).techniques[0];
      expect(failing.rules).not.toContain(rule.rule_id);
      expect(failing.why).toContain(`rule "${rule.name}" is enabled but failing since 2026-02-12T07:00:00.000Z (missing index): not counted`);
      await live.refreshRuleSources?.();

      kibana.down();
      await live.refreshRuleSources?.();
      expect(live.ruleSources?.()[0]).toMatchObject({ state: 'stale', rules: live.evidence.rules.length });
      expect(live.evidence.rules.some((r) => r.id === rule.rule_id)).toBe(true);
      const stale = await assess();
      expect(stale.techniques[0].rules).toContain(rule.rule_id);
      expect(stale.techniques[0].why.at(-1)).toMatch(/^rule source kibana \(http:\/\/127\.0\.0\.1:\d+ space default\) unreachable since .*its last good inventory \(\d+ rule\(s\), read .*\) is used$/);
      expect(stale.warnings.at(-1)).toMatch(/^rule source kibana .* unreachable since/);
      expect(live.evidence.issues.some((i) => /last good inventory/.test(i.reason))).toBe(true);

      kibana.up();
      await live.refreshRuleSources?.();
      expect(live.ruleSources?.()[0].state).toBe('ok');
      expect((await assess()).warnings.join('\n')).not.toMatch(/rule source/);
    } finally {
      kibana.up();
      await live.close();
    }
    expect(lines.join('')).toMatch(/rule source unreachable; its last good inventory is kept/);
    expect(lines.join('')).not.toContain(API_KEY);
  });

  it('refresh after an outage: stale state, last good rules, explanation line; back to ok when the API returns', async () => {
    const config = configOf({ ELASTIC_SECURITY_URL: kibana.url, ELASTIC_SECURITY_API_KEY: API_KEY });
    const lines: string[] = [];
    // A raw pino without the daemon's scrubbing: what our code logs must not hold a credential by itself.
    const log = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    const src = createRuleSource(config, 'kibana', log);
    let now = new Date('2026-02-12T09:00:00.000Z');
    const rules = startLiveRules([src], { log, refreshMs: 60_000, clock: () => now });
    try {
      await rules.refresh();
      const count = rules.rules.length;
      expect(count).toBeGreaterThan(100);
      kibana.down();
      now = new Date('2026-02-12T09:05:00.000Z');
      await rules.refresh();
      const status = rules.status()[0];
      expect(status).toMatchObject({ state: 'stale', rules: count, unreachable_since: '2026-02-12T09:05:00.000Z', last_success: '2026-02-12T09:00:00.000Z' });
      expect(rules.rules).toHaveLength(count);
      expect(rules.issues.at(-1)?.reason).toMatch(/^kibana \(http:\/\/127\.0\.0\.1:\d+ space default\) unreachable since 2026-02-12T09:05:00\.000Z: .*; its last good inventory \(\d+ rule\(s\), read 2026-02-12T09:00:00\.000Z\) is used$/);
      const note = rules.notes()[0];
      expect(note.state).toBe('stale');
      expect(daemonStatus({ connectorId: 'c', schedulerEnabled: false, startedAt: now, ruleSources: () => rules.status() }, { received: 0, succeeded: 0, failed: 0, deadLettered: 0, lastSuccessAt: null }, now)).toMatchObject({
        rule_sources: [expect.objectContaining({ source: 'kibana', state: 'stale' })],
      });
      kibana.up();
      now = new Date('2026-02-12T09:10:00.000Z');
      await rules.refresh();
      expect(rules.status()[0]).toMatchObject({ state: 'ok', unreachable_since: null, error: null });
      expect(rules.notes()).toEqual([]);
    } finally {
      kibana.up();
      await rules.close();
    }
    const text = lines.join('');
    expect(text).toMatch(/rule source unreachable; its last good inventory is kept/);
    expect(text).not.toContain(API_KEY);
  });
});
