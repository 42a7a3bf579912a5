import { createJsonHttp } from '../../src/adapters/http/json-http';
import { createElasticsearchSiemQuery, ELASTIC_PROFILE, WAZUH_PROFILE, type EsProfile } from '../../src/adapters/siem/elasticsearch-query';
import { createExecutionLog } from '../../src/adapters/siem/execution-log';
import { createSiemAssessor } from '../../src/adapters/siem/siem-assessor';
import { createMemoryStore } from '../../src/adapters/store/json-file-store';
import { BackendError } from '../../src/errors';
import { coverageRequest } from '../support/coverage-request';
import { startFakeSiem, type FakeSiem } from '../support/fake-siem/server';

const request = coverageRequest(['T1059', 'T1003.001', 'T1531', 'T1486']);
const now = new Date('2026-02-12T12:00:00.000Z');
const API_KEY = 'ApiKey c2llbTpzZWNyZXQ=';

/** An Elastic Security alert as the detection engine writes it (nested threat, flattened kibana.* keys). */
function elasticAlert(at: string, host: string, technique: string, sub?: string) {
  return {
    index: '.alerts-security.alerts-default', // the alias Kibana reads through
    source: {
      '@timestamp': at,
      'kibana.alert.rule.name': `Suspicious ${technique}`,
      kibana: { alert: { rule: { threat: [{ framework: 'MITRE ATT&CK', tactic: { id: 'TA0002', name: 'Execution' }, technique: [{ id: technique, name: 'x', ...(sub ? { subtechnique: [{ id: sub, name: 'y' }] } : {}) }] }] } } },
      host: { name: host },
    },
  };
}

describe('SIEM validation backend against a fake Elasticsearch', () => {
  let siem: FakeSiem;

  function assessorFor(profile: EsProfile, options: { url?: string; authorization?: string; maxAttempts?: number } = {}) {
    const http = createJsonHttp({
      baseUrl: options.url ?? siem.url,
      headers: { authorization: options.authorization ?? API_KEY },
      timeoutMs: 2000,
      maxAttempts: options.maxAttempts ?? 2,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
      sleep: async () => undefined,
    });
    const executions = createExecutionLog({ files: [], store: createMemoryStore() });
    const assessor = createSiemAssessor({
      query: createElasticsearchSiemQuery({ http, profile }),
      executions,
      windowMinutes: 60,
      clockSkewSeconds: 120,
      lookbackDays: 30,
      loggedScore: 50,
      externalUrl: 'https://kibana.example.org/app/security/alerts',
    });
    return assessor;
  }

  beforeEach(async () => {
    siem = await startFakeSiem({ authorization: API_KEY });
  });
  afterEach(async () => {
    await siem.close();
  });

  it('scores detected 100, logged 50 and none 0 per run, and averages the runs of a technique', async () => {
    const a = assessorFor({ ...ELASTIC_PROFILE, eventsIndex: 'logs-*' });
    await a.recordExecutions([
      { techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01', test: 'PowerShell encoded' }, // alert → 100
      { techniqueId: 'T1059.003', executedAt: '2026-02-12T09:30:00Z', host: 'WIN-02' }, // events only → 50
      { techniqueId: 'T1003.001', executedAt: '2026-02-12T10:00:00Z', host: 'WIN-03' }, // nothing → 0
      { techniqueId: 'T1486', executedAt: '2026-02-12T11:30:00Z', host: 'WIN-01' }, // window still open
    ]);
    siem.index([
      elasticAlert('2026-02-12T09:05:00.000Z', 'WIN-01', 'T1059', 'T1059.001'),
      elasticAlert('2026-02-12T09:06:00.000Z', 'WIN-02', 'T1003'), // other technique on the logged host: ignored
      elasticAlert('2026-02-12T08:00:00.000Z', 'WIN-03', 'T1003', 'T1003.001'), // before the window: ignored
      { index: 'logs-system.security-default', source: { '@timestamp': '2026-02-12T09:31:00.000Z', host: { name: 'WIN-02' }, event: { code: '4688' } } },
    ]);
    const result = await a.assess(request, { now });
    const [t1059, t1003, t1531, t1486] = result.techniques;
    expect(t1059).toMatchObject({ tested: true, detection: 75, source: 'siem', externalUri: 'https://kibana.example.org/app/security/alerts' });
    expect(t1059.why).toEqual([
      'DETECTION 75: 1/2 run(s) raised an alert in elastic',
      'run 2026-02-12T09:00:00.000Z on WIN-01 (PowerShell encoded): detected — 1 alert(s), e.g. rule "Suspicious T1059"',
      'run 2026-02-12T09:30:00.000Z on WIN-02: logged — 1 event(s) from the host reached elastic, no alert tagged T1059.003',
    ]);
    expect(t1003).toMatchObject({ tested: true, detection: 0 });
    expect(t1003.prevention).toBeUndefined();
    expect(t1531).toMatchObject({ tested: false });
    expect(t1531.detection).toBeUndefined();
    expect(t1531.why[0]).toMatch(/no execution of T1531/);
    expect(t1486.tested).toBe(false);
    expect(t1486.why[0]).toMatch(/still inside the 60-minute detection window \(first closes 2026-02-12T12:30:00.000Z\)/);
    expect(result.overall).toEqual([{ name: 'DETECTION', score: 38 }]);
    expect(result.runAt).toBe('2026-02-12T10:00:00.000Z');
  });

  it('sends Elasticsearch a bool query: time range over the window, any technique field, the run host', async () => {
    const a = assessorFor(ELASTIC_PROFILE);
    await a.recordExecutions([{ techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' }]);
    await a.assess({ ...request, techniques: [{ techniqueId: 'T1059.001' }] }, { now });
    expect(siem.searches).toHaveLength(1);
    expect(siem.searches[0].index).toBe('.alerts-security.alerts-*');
    expect(siem.searches[0].body).toMatchObject({
      size: 5,
      track_total_hits: true,
      query: {
        bool: {
          filter: [
            { range: { '@timestamp': { gte: '2026-02-12T08:58:00.000Z', lte: '2026-02-12T10:00:00.000Z', format: 'strict_date_optional_time' } } },
            {
              bool: {
                should: [
                  { terms: { 'kibana.alert.rule.threat.technique.id': ['T1059.001', 'T1059'] } },
                  { terms: { 'kibana.alert.rule.threat.technique.subtechnique.id': ['T1059.001', 'T1059'] } },
                  { terms: { 'threat.technique.id': ['T1059.001', 'T1059'] } },
                  { terms: { 'threat.technique.subtechnique.id': ['T1059.001', 'T1059'] } },
                ],
                minimum_should_match: 1,
              },
            },
            { bool: { should: [{ terms: { 'host.name': ['WIN-01'] } }], minimum_should_match: 1 } },
          ],
        },
      },
    });
  });

  it('queries Wazuh alerts by rule.mitre.id, agent.name and timestamp', async () => {
    const a = assessorFor(WAZUH_PROFILE);
    await a.recordExecutions([
      { techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' },
      { techniqueId: 'T1003.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' },
    ]);
    siem.index([
      {
        index: 'wazuh-alerts-4.x-2026.02.12',
        source: {
          timestamp: '2026-02-12T09:04:10.123+0000',
          rule: { id: '92057', level: 12, description: 'Powershell.exe spawned a powershell process which executed a base64 encoded command', mitre: { id: ['T1059.001'], tactic: ['Execution'], technique: ['PowerShell'] } },
          agent: { id: '001', name: 'WIN-01' },
        },
      },
    ]);
    const result = await a.assess({ ...request, techniques: [{ techniqueId: 'T1059.001' }, { techniqueId: 'T1003.001' }] }, { now });
    expect(result.techniques.map((t) => t.detection)).toEqual([100, 0]);
    expect(result.techniques[0].why[1]).toMatch(/rule "Powershell\.exe spawned/);
    expect(siem.searches[0].index).toBe('wazuh-alerts-*');
    expect(JSON.stringify(siem.searches[0].body)).toContain('"rule.mitre.id"');
  });

  it('runs one query per run even when the run serves a parent and its sub-technique', async () => {
    const a = assessorFor(ELASTIC_PROFILE);
    await a.recordExecutions([{ techniqueId: 'T1059.001', executedAt: '2026-02-12T09:00:00Z', host: 'WIN-01' }]);
    const result = await a.assess({ ...request, techniques: [{ techniqueId: 'T1059' }, { techniqueId: 'T1059.001' }] }, { now });
    expect(result.techniques.map((t) => t.tested)).toEqual([true, true]);
    expect(siem.searches).toHaveLength(1);
  });

  it('fails with retryable SIEM_UNREACHABLE when nothing listens', async () => {
    const a = assessorFor(ELASTIC_PROFILE, { url: 'http://127.0.0.1:9' });
    await a.recordExecutions([{ techniqueId: 'T1059', executedAt: '2026-02-12T09:00:00Z' }]);
    const err = await a.assess(request, { now }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'SIEM_UNREACHABLE', retryable: true });
  });

  it('fails with non-retryable SIEM_AUTH when the credentials are refused', async () => {
    const a = assessorFor(ELASTIC_PROFILE, { authorization: 'ApiKey wrong' });
    await a.recordExecutions([{ techniqueId: 'T1059', executedAt: '2026-02-12T09:00:00Z' }]);
    await expect(a.assess(request, { now })).rejects.toMatchObject({ code: 'SIEM_AUTH', retryable: false });
    expect(siem.searches).toHaveLength(0);
  });

  it('treats partial shard results as a retryable failure rather than under-counting detections', async () => {
    const a = assessorFor(ELASTIC_PROFILE, { maxAttempts: 1 });
    await a.recordExecutions([{ techniqueId: 'T1059', executedAt: '2026-02-12T09:00:00Z' }]);
    siem.partialNext(1);
    await expect(a.assess(request, { now })).rejects.toMatchObject({ code: 'SIEM_UNREACHABLE', retryable: true, message: expect.stringMatching(/partial results .*1 of 3 shards failed/) });
    // Nothing was lost: the next assessment scores the same run.
    await expect(a.assess(request, { now })).resolves.toMatchObject({ backend: 'siem' });
  });

  it('retries a 503 from the SIEM and then succeeds', async () => {
    const a = assessorFor(ELASTIC_PROFILE, { maxAttempts: 3 });
    await a.recordExecutions([{ techniqueId: 'T1059', executedAt: '2026-02-12T09:00:00Z' }]);
    siem.failNext(2, 503);
    const result = await a.assess(request, { now });
    expect(result.techniques[0]).toMatchObject({ tested: true, detection: 0 });
    expect(siem.searches).toHaveLength(3);
  });

  it('reports a search the SIEM rejects (HTTP 400) as non-retryable SIEM_QUERY_FAILED', async () => {
    const a = assessorFor(ELASTIC_PROFILE, { maxAttempts: 3 });
    await a.recordExecutions([{ techniqueId: 'T1059', executedAt: '2026-02-12T09:00:00Z' }]);
    siem.failNext(1, 400);
    await expect(a.assess(request, { now })).rejects.toMatchObject({ code: 'SIEM_QUERY_FAILED', retryable: false });
    expect(siem.searches).toHaveLength(1);
  });
});
