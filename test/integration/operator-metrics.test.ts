import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/app/logger';
import { noopObserver, type JobObserver } from '../../src/app/job-observer';
import { describeWithBroker } from '../support/env';
import { times } from '../support/events';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { unusedPort } from '../support/ports';
import { sample } from '../support/prometheus';

/** The daemon's HTTP endpoint after a scripted run: counters, readiness and per-job correlation in logs. */

describeWithBroker('daemon HTTP endpoint', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('exposes the counters with the values of a scripted run, and is ready', async () => {
    const events = new EventEmitter();
    const observer: JobObserver = { ...noopObserver, succeeded: () => events.emit('done'), deadLettered: () => events.emit('done') };
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const daemon = await h.start({
      config: { http: { enabled: true, host: '127.0.0.1', port: 0 } },
      daemon: { observer, log: createLogger('info', sink) },
    });
    const base = `http://127.0.0.1:${daemon.httpPort as number}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // Scripted run: two coverages pushed, one invalid message dead-lettered.
    const a = h.reportCoverage(['T1059', 'T1003']).coverage;
    const b = h.reportCoverage(['T1566']).coverage;
    const done = times(events, 'done', 3);
    const workA = await h.fake.publishEnrichment(h.connectorId, a);
    await h.fake.publishEnrichment(h.connectorId, b);
    await h.fake.publishRaw(h.connectorId, 'not json');
    await done;

    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(text, 'coverage_connector_messages_received_total')).toBe(3);
    expect(sample(text, 'coverage_connector_messages_succeeded_total', 'outcome="pushed"')).toBe(2);
    expect(sample(text, 'coverage_connector_messages_dead_lettered_total', 'code="MESSAGE_INVALID"')).toBe(1);
    expect(sample(text, 'coverage_connector_messages_failed_total', 'code="MESSAGE_INVALID",will_retry="false"')).toBe(1);
    expect(sample(text, 'coverage_connector_assessment_runs_total', 'backend="fake"')).toBe(2);
    expect(sample(text, 'coverage_connector_assessment_duration_seconds_count', 'backend="fake"')).toBe(2);
    expect(sample(text, 'coverage_connector_push_duration_seconds_count')).toBe(2);
    // Lag comes from the platform work id; the invalid message has none.
    expect(sample(text, 'coverage_connector_queue_lag_seconds_count')).toBe(2);
    expect(sample(text, 'coverage_connector_jobs_in_flight')).toBe(0);
    expect(sample(text, 'coverage_connector_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(text).toContain('coverage_connector_process_resident_memory_bytes');

    const status = (await (await fetch(`${base}/status`)).json()) as Record<string, any>;
    expect(status).toMatchObject({ connector_id: h.connectorId, registered: true, broker_connected: true, in_flight: 0, counters: { received: 3, succeeded: 2, failed: 1, dead_lettered: 1 } });
    expect(typeof status.last_success).toBe('string');

    // Correlation: every line the worker logs for a job carries its work id and coverage id.
    const jobLines = lines.filter((l) => l.work_id === workA);
    expect(jobLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['enrichment done']));
    expect(jobLines.every((l) => l.coverage_id === a.standardId)).toBe(true);
    const done1 = lines.filter((l) => l.msg === 'enrichment done');
    expect(done1.every((l) => typeof l.work_id === 'string' && typeof l.coverage_id === 'string')).toBe(true);
  });

  it('answers /healthz but not /readyz while the platform is down at startup, ready once registered, gone after close', async () => {
    const port = await unusedPort();
    h.fake.fail({ kind: 'status', status: 503, times: Infinity, operations: ['RegisterConnector'] });
    const starting = h.start({ config: { http: { enabled: true, host: '127.0.0.1', port } } });
    // The endpoint is up before registration: wait for the first refused registration.
    await h.fake.until(() => h.fake.calls.some((c) => c.operationName === 'RegisterConnector' && c.failed), 10000, 'a refused registration');
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ checks: { platform: { ok: false }, broker: { ok: false } } });

    h.fake.clearFailures();
    const daemon = await starting;
    expect(daemon.httpPort).toBe(port);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await daemon.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
