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
