import { createHttpServer, daemonReadiness, daemonStatus, type DaemonLiveState, type Readiness } from '../../../src/app/http-server';
import { createMetrics } from '../../../src/app/metrics';

const silent = { info: () => undefined, warn: () => undefined };

describe('HTTP endpoint', () => {
  let readiness: Readiness = { ready: false, checks: { broker: { ok: false } } };
  const metrics = createMetrics();
  const server = createHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: silent,
    metrics,
    readiness: () => readiness,
    status: () => ({ in_flight: 2 }),
  });
  let base = '';

  beforeAll(async () => {
    const { port } = await server.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.close());

  it('answers /healthz with 200 while the process runs', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 until readiness() says ready, then 200', async () => {
    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'not ready', checks: { broker: { ok: false } } });
    readiness = { ready: true, checks: { broker: { ok: true } } };
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('serves /status as JSON and /metrics in the Prometheus text format', async () => {
    expect(await (await fetch(`${base}/status`)).json()).toEqual({ in_flight: 2 });
    metrics.observer.received();
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('coverage_connector_messages_received_total 1');
  });

  it('answers 404 for unknown paths and 405 for writes', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('close() is idempotent', async () => {
    const s = createHttpServer({ host: '127.0.0.1', port: 0, log: silent, metrics, readiness: () => readiness, status: () => ({}) });
    await s.start();
    await Promise.all([s.close(), s.close()]);
    await expect(s.close()).resolves.toBeUndefined();
  });
});

describe('daemon readiness and status', () => {
  const live: DaemonLiveState = { connectorId: 'c1', schedulerEnabled: true, startedAt: new Date('2026-01-01T00:00:00Z') };

  it('is not ready before registration and the broker channel, ready with both', () => {
    expect(daemonReadiness(live).ready).toBe(false);
    const connected = { ...live, registered: true, broker: { connected: true } };
    expect(daemonReadiness(connected)).toEqual({ ready: true, checks: { platform: { ok: true, detail: 'registered' }, broker: { ok: true, detail: 'channel open' } } });
    expect(daemonReadiness({ ...connected, broker: { connected: false } }).ready).toBe(false);
  });

  it('reports in-flight jobs, scheduler leadership, last success and counters', () => {
    const status = daemonStatus(
      { ...live, registered: true, broker: { connected: true }, worker: { inFlight: 3 }, scheduler: { isLeader: () => true } },
      { received: 5, succeeded: 4, failed: 1, deadLettered: 1, lastSuccessAt: new Date('2026-01-01T00:01:00Z') },
      new Date('2026-01-01T00:02:00Z'),
    );
    expect(status).toMatchObject({
      in_flight: 3,
      scheduler: { enabled: true, leader: true },
      last_success: '2026-01-01T00:01:00.000Z',
      counters: { received: 5, succeeded: 4, failed: 1, dead_lettered: 1 },
      uptime_seconds: 120,
    });
  });
});

describe('HTTP endpoint protection and truthful readiness', () => {
  it('requires the bearer token on /status and /metrics when HTTP_AUTH_TOKEN is set; probes stay open', async () => {
    const s = createHttpServer({ host: '127.0.0.1', port: 0, log: silent, metrics: createMetrics(), readiness: () => ({ ready: true, checks: {} }), status: () => ({ connector_id: 'c1' }), authToken: 'st-SECRET-1' });
    const { port } = await s.start();
    const base = `http://127.0.0.1:${port}`;
    try {
      for (const path of ['/status', '/metrics']) {
        const denied = await fetch(`${base}${path}`);
        expect(denied.status).toBe(401);
        expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
        expect((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer st-SECRET-1' } })).status).toBe(200);
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('is not ready while the platform circuit is open or the jobs are stalled, and says why', () => {
    const base: DaemonLiveState = { connectorId: 'c1', schedulerEnabled: false, startedAt: new Date(), registered: true, broker: { connected: true } };
    const snapshot = { state: 'open' as const, cause: 'auth' as const, code: 'PLATFORM_AUTH', reason: 'AUTH_REQUIRED', openedAt: new Date(), nextProbeAt: new Date(), failedProbes: 2, trips: 1, consecutiveFailures: 1 };
    const health = { running: 4, waiting: 6, retrying: 0, paused: false, lastProgressAt: new Date(Date.now() - 120000), stalled: true, pendingWorkClosures: 0 };
    const open = daemonReadiness({ ...base, breaker: { snapshot: () => snapshot } });
    expect(open.ready).toBe(false);
    expect(open.checks.platform_circuit).toEqual({ ok: false, detail: expect.stringContaining('OPENCTI_TOKEN') });
    const stalled = daemonReadiness({ ...base, breaker: { snapshot: () => ({ ...snapshot, state: 'closed' }) }, worker: { inFlight: 4, health: () => health } });
    expect(stalled.ready).toBe(false);
    expect(stalled.checks.jobs).toEqual({ ok: false, detail: expect.stringMatching(/stalled: 10 job\(s\) held, no progress for 120 s/) });
    expect(daemonReadiness({ ...base, worker: { inFlight: 4, health: () => ({ ...health, stalled: false }) } }).ready).toBe(true);
    const status = daemonStatus({ ...base, breaker: { snapshot: () => snapshot }, worker: { inFlight: 4, health: () => health } }, { received: 0, succeeded: 0, failed: 0, deadLettered: 0, lastSuccessAt: null }, new Date());
    expect(status).toMatchObject({ platform_circuit: { state: 'open', cause: 'auth', failed_probes: 2, trips: 1 }, jobs: { running: 4, waiting: 6, stalled: true } });
  });
});
