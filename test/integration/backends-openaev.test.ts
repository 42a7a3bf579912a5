import { createJsonHttp } from '../../src/adapters/http/json-http';
import { createOpenAevAssessor, type OpenAevState } from '../../src/adapters/openaev/openaev-assessor';
import { createOpenAevClient, NO_WORK_ID } from '../../src/adapters/openaev/openaev-client';
import { createMemoryStore, type KeyValueStore } from '../../src/adapters/store/json-file-store';
import { BackendError } from '../../src/errors';
import { coverageRequest } from '../support/coverage-request';
import { startFakeOpenAev, type FakeOpenAev } from '../support/fake-openaev/server';

const request = coverageRequest(
  [
    { techniqueId: 'T1059', stixId: 'attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48', name: 'Command and Scripting Interpreter' },
    { techniqueId: 'T1003', stixId: 'attack-pattern--0a3ead4e-6d47-4ccb-854c-a6a4f9d96b22' },
    { techniqueId: 'T1531', stixId: 'attack-pattern--b24e2a20-3b3d-4bf0-823b-1ed765398fb0' },
  ],
  { periodicity: 'P1D', duration: 'P30D', created: '2026-02-10T09:00:00.000Z', modified: '2026-02-10T09:12:00.000Z' },
);
const now = new Date('2026-02-12T09:00:00.000Z');

describe('OpenAEV backend against a fake OpenAEV', () => {
  let fake: FakeOpenAev;
  let store: KeyValueStore;
  let delays: number[];

  function assessor(overrides: { url?: string; token?: string; draft?: boolean; maxAttempts?: number } = {}) {
    delays = [];
    const http = createJsonHttp({
      baseUrl: overrides.url ?? fake.url,
      headers: { authorization: `Bearer ${overrides.token ?? fake.token}` },
      timeoutMs: 2000,
      maxAttempts: overrides.maxAttempts ?? 3,
      backoffBaseMs: 100,
      backoffMaxMs: 400,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    return createOpenAevAssessor({ client: createOpenAevClient({ http }), store, baseUrl: 'https://openaev.example.org/', draft: overrides.draft, defaultPeriodicity: 'P1D', defaultDuration: 'P30D' });
  }

  beforeEach(async () => {
    fake = await startFakeOpenAev();
    store = createMemoryStore();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('creates one scenario per coverage and reports every technique as not tested until a simulation finishes', async () => {
    const result = await assessor().assess(request, { now });
    const scenario = fake.scenarioOf(request.coverageId)!;
    expect(scenario.techniques).toEqual(['T1059', 'T1003', 'T1531']);
    expect(result.backend).toBe('openaev');
    expect(result.externalUri).toBe(`https://openaev.example.org/admin/scenarios/${scenario.id}`);
    expect(result.techniques.every((t) => !t.tested && t.detection === undefined && t.prevention === undefined)).toBe(true);
    expect(result.overall).toEqual([]);
    const event = fake.bundles[0] as { objects: Array<{ type: string }> };
    expect(event.objects.map((o) => o.type)).toEqual(['security-coverage', 'attack-pattern', 'attack-pattern', 'attack-pattern']);
  });

  it('does not send the bundle again while the content is unchanged', async () => {
    const a = assessor();
    await a.assess(request, { now });
    await a.assess({ ...request, modified: '2026-02-11T00:00:00.000Z' }, { now: new Date(now.getTime() + 60_000) });
    await a.assess(request, { now: new Date(now.getTime() + 120_000) });
    expect(fake.requests.filter((r) => r.path === '/api/stix/process-bundle')).toHaveLength(1);
    expect(fake.scenarioOf(request.coverageId)!.recurrenceUpdates).toBe(1);
  });

  it('serialises concurrent assessments of one coverage so only one bundle is sent', async () => {
    const a = assessor();
    await Promise.all([a.assess(request, { now }), a.assess(request, { now }), a.assess(request, { now })]);
    expect(fake.requests.filter((r) => r.path === '/api/stix/process-bundle')).toHaveLength(1);
    expect(fake.scenarios.size).toBe(1);
  });

  it('sends again, to the same scenario, when a technique is added', async () => {
    const a = assessor();
    await a.assess(request, { now });
    const first = fake.scenarioOf(request.coverageId)!.id;
    await a.assess({ ...request, techniques: [...request.techniques, { techniqueId: 'T1486' }] }, { now: new Date(now.getTime() + 60_000) });
    expect(fake.requests.filter((r) => r.path === '/api/stix/process-bundle')).toHaveLength(2);
    expect(fake.scenarioOf(request.coverageId)!.id).toBe(first);
    expect(fake.scenarioOf(request.coverageId)!.techniques).toContain('T1486');
  });

  it('sets the recurrence itself and applies a periodicity edit that OpenAEV alone would ignore', async () => {
    const a = assessor();
    await a.assess({ ...request, periodicity: 'PT30M' }, { now });
    const scenario = fake.scenarioOf(request.coverageId)!;
    // OpenAEV would have read PT30M as 30 months; we rewrote it.
    expect(scenario.recurrence).toEqual({ scenario_recurrence: 'PT1H', scenario_recurrence_start: '2026-02-12T09:02:00.000Z', scenario_recurrence_end: '2026-03-14T09:02:00.000Z' });
    const edited = await a.assess({ ...request, periodicity: 'P7D' }, { now: new Date('2026-02-13T00:00:00.000Z') });
    expect(scenario.recurrence.scenario_recurrence).toBe('P1W');
    expect(scenario.recurrence.scenario_recurrence_start).toBe('2026-02-13T00:02:00.000Z');
    expect(scenario.recurrenceUpdates).toBe(2);
    expect(edited.warnings.join('\n')).not.toMatch(/granularity/);
    expect((await store.get<OpenAevState>(`openaev:${request.coverageId}`))?.recurrenceKey).toBe('P1W|P30D');
  });

  it('falls back to the default periodicity, with a warning, when the coverage carries an invalid one', async () => {
    const result = await assessor().assess({ ...request, periodicity: 'daily' }, { now });
    expect(fake.scenarioOf(request.coverageId)!.recurrence.scenario_recurrence).toBe('P1D');
    expect(result.warnings).toContain('periodicity daily is not a valid ISO-8601 duration; using P1D');
  });

  it('leaves the scenario unscheduled in draft mode', async () => {
    await assessor({ draft: true }).assess(request, { now });
    expect(fake.scenarioOf(request.coverageId)!.recurrence.scenario_recurrence).toBeNull();
  });

  it('reports the latest finished simulation, with untestable techniques as not tested and integer scores', async () => {
    const a = assessor();
    await a.assess(request, { now });
    const scenario = fake.scenarioOf(request.coverageId)!;
    fake.addSimulation(scenario.id, {
      status: 'FINISHED',
      start: '2026-02-11T09:00:00.000Z',
      injects: [{ techniques: ['T1059'], expectations: [{ type: 'DETECTION', failed: 1 }] }],
    });
    const latest = fake.addSimulation(scenario.id, {
      status: 'FINISHED',
      start: '2026-02-12T09:02:00.000Z',
      name: 'APT-X daily',
      injects: [
        // OpenAEV served T1059 with a T1059.001 payload (prefix selection).
        { techniques: ['T1059.001'], title: '[T1059.001] PowerShell - Encoded command', expectations: [{ type: 'PREVENTION', success: 2, failed: 1 }, { type: 'DETECTION', success: 1, partial: 1, pending: 1, failed: 1 }] },
        { techniques: ['T1003'], expectations: [{ type: 'PREVENTION', failed: 1 }, { type: 'DETECTION', success: 1 }] },
      ],
    });
    fake.addSimulation(scenario.id, { status: 'RUNNING', start: '2026-02-13T09:02:00.000Z' });
    const result = await a.assess(request, { now: new Date('2026-02-13T09:10:00.000Z') });
    const [t1059, t1003, t1531] = result.techniques;
    expect(t1059).toMatchObject({ tested: true, prevention: 67, detection: 25, externalUri: `https://openaev.example.org/admin/simulations/${latest}` });
    expect(t1003).toMatchObject({ tested: true, prevention: 0, detection: 100 });
    expect(t1531.tested).toBe(false);
    expect(t1531.prevention).toBeUndefined();
    expect(result.overall).toEqual([
      { name: 'PREVENTION', score: 34 },
      { name: 'DETECTION', score: 63 },
    ]);
    expect(result.runAt).toBe('2026-02-12T09:02:00.000Z');
    expect(result.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/1 OpenAEV simulation\(s\) still running/), expect.stringMatching(/could not test 1 of 3/)]));
  });

  it('recreates the scenario when it was deleted in OpenAEV', async () => {
    const a = assessor();
    await a.assess(request, { now });
    const old = fake.scenarioOf(request.coverageId)!.id;
    fake.deleteScenario(old);
    const result = await a.assess(request, { now: new Date(now.getTime() + 60_000) });
    const fresh = fake.scenarioOf(request.coverageId)!;
    expect(fresh.id).not.toBe(old);
    expect(fresh.recurrence.scenario_recurrence).toBe('P1D');
    expect(result.warnings.join('\n')).toMatch(/no longer exists; the coverage was sent again/);
    expect((await store.get<OpenAevState>(`openaev:${request.coverageId}`))?.scenarioId).toBe(fresh.id);
  });

  it('fails with retryable OPENAEV_UNREACHABLE when nothing listens, after capped retries', async () => {
    const url = fake.url;
    await fake.close();
    const err = await assessor({ url, maxAttempts: 3 }).assess(request, { now }).catch((e: unknown) => e);
    fake = await startFakeOpenAev(); // for afterEach
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'OPENAEV_UNREACHABLE', retryable: true });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(delays).toHaveLength(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
    expect(await store.get(`openaev:${request.coverageId}`)).toBeUndefined();
  });

  it('fails with non-retryable OPENAEV_AUTH when the token is refused', async () => {
    const err = await assessor({ token: 'wrong' }).assess(request, { now }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPENAEV_AUTH', retryable: false });
    expect((err as Error).message).toMatch(/OPENAEV_TOKEN/);
    expect(fake.requests).toHaveLength(1); // refused credentials are not retried
  });

  it('recovers from transient 503s within one assessment and re-sends with a fresh modified date', async () => {
    fake.failNext(2, 503, '/api/stix/process-bundle');
    const result = await assessor().assess(request, { now });
    expect(result.backend).toBe('openaev');
    expect(fake.requests.filter((r) => r.path === '/api/stix/process-bundle')).toHaveLength(3);
    expect(delays).toEqual([expect.any(Number), expect.any(Number)]);
  });

  it('keeps the scenario state when reading results fails, so the retry sends nothing twice', async () => {
    const a = assessor({ maxAttempts: 1 });
    fake.failNext(1, 500, '/exercises');
    await expect(a.assess(request, { now })).rejects.toMatchObject({ code: 'OPENAEV_UNREACHABLE' });
    expect(await store.get(`openaev:${request.coverageId}`)).toMatchObject({ scenarioId: fake.scenarioOf(request.coverageId)!.id });
    await a.assess(request, { now });
    expect(fake.requests.filter((r) => r.path === '/api/stix/process-bundle')).toHaveLength(1);
  });

  it('maps an empty 200 (bundle refused by OpenAEV processing rules) to OPENAEV_REJECTED', async () => {
    const http = createJsonHttp({ baseUrl: fake.url, headers: { authorization: `Bearer ${fake.token}` }, timeoutMs: 2000, maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 });
    const client = createOpenAevClient({ http });
    // No security-coverage in the bundle: OpenAEV's BundleValidationError path answers 200 with no body.
    await expect(client.processBundle(() => ({ type: 'bundle', id: 'bundle--1', objects: [] }))).rejects.toMatchObject({ code: 'OPENAEV_REJECTED', retryable: false });
    expect(fake.requests).toHaveLength(1);
  });

  it('sends the CTI event shape OpenAEV expects, with a marker work id that is no OpenCTI work', async () => {
    await assessor().assess(request, { now });
    expect(NO_WORK_ID).toBe('coverage-connector-no-work');
    expect(fake.bundles).toHaveLength(1);
  });
});
