import { combineObservers, createMetrics, workIdTime } from '../../../src/app/metrics';
import type { JobObserver } from '../../../src/app/job-observer';
import { sample } from '../../support/prometheus';

describe('metrics', () => {
  it('counts received, succeeded, failed and dead-lettered messages with their labels', async () => {
    const m = createMetrics();
    const o = m.observer;
    o.received();
    o.received();
    o.received();
    o.succeeded('pushed');
    o.succeeded('unchanged');
    o.failed('PLATFORM_UNAVAILABLE', true);
    o.failed('MESSAGE_INVALID', false);
    o.deadLettered('MESSAGE_INVALID');
    const text = await m.text();
    expect(sample(text, 'coverage_connector_messages_received_total')).toBe(3);
    expect(sample(text, 'coverage_connector_messages_succeeded_total', 'outcome="pushed"')).toBe(1);
    expect(sample(text, 'coverage_connector_messages_succeeded_total', 'outcome="unchanged"')).toBe(1);
    expect(sample(text, 'coverage_connector_messages_failed_total', 'code="PLATFORM_UNAVAILABLE",will_retry="true"')).toBe(1);
    expect(sample(text, 'coverage_connector_messages_failed_total', 'code="MESSAGE_INVALID",will_retry="false"')).toBe(1);
    expect(sample(text, 'coverage_connector_messages_dead_lettered_total', 'code="MESSAGE_INVALID"')).toBe(1);
    expect(m.snapshot()).toMatchObject({ received: 3, succeeded: 2, failed: 2, deadLettered: 1 });
  });

  it('records runs and durations by backend, push durations, lag, scheduler due and in-flight', async () => {
    const m = createMetrics();
    m.observer.assessed('embedded', 0.2);
    m.observer.assessed('embedded', 3);
    m.observer.assessed('openaev', 1);
    m.observer.pushed(0.03);
    m.observer.lag(12);
    m.observer.schedulerDue(7);
    m.observer.inFlight(2);
    const text = await m.text();
    expect(sample(text, 'coverage_connector_assessment_runs_total', 'backend="embedded"')).toBe(2);
    expect(sample(text, 'coverage_connector_assessment_runs_total', 'backend="openaev"')).toBe(1);
    expect(sample(text, 'coverage_connector_assessment_duration_seconds_count', 'backend="embedded"')).toBe(2);
    expect(sample(text, 'coverage_connector_assessment_duration_seconds_sum', 'backend="embedded"')).toBeCloseTo(3.2);
    expect(sample(text, 'coverage_connector_assessment_duration_seconds_bucket', 'le="0.25",backend="embedded"')).toBe(1);
    expect(sample(text, 'coverage_connector_push_duration_seconds_count')).toBe(1);
    expect(sample(text, 'coverage_connector_queue_lag_last_seconds')).toBe(12);
    expect(sample(text, 'coverage_connector_queue_lag_seconds_count')).toBe(1);
    expect(sample(text, 'coverage_connector_scheduler_due')).toBe(7);
    expect(sample(text, 'coverage_connector_jobs_in_flight')).toBe(2);
  });

  it('sets the last-success timestamp from the injected clock, 0 before any success', async () => {
    const at = new Date('2026-03-01T10:00:00.000Z');
    const m = createMetrics({ clock: () => at });
    expect(sample(await m.text(), 'coverage_connector_last_success_timestamp_seconds')).toBe(0);
    expect(m.snapshot().lastSuccessAt).toBeNull();
    m.observer.succeeded('skipped');
    expect(sample(await m.text(), 'coverage_connector_last_success_timestamp_seconds')).toBe(at.getTime() / 1000);
    expect(m.snapshot().lastSuccessAt).toEqual(at);
  });

  it('keeps each instance in its own registry (no global default registry)', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observer.received();
    expect(sample(await a.text(), 'coverage_connector_messages_received_total')).toBe(1);
    expect(sample(await b.text(), 'coverage_connector_messages_received_total')).toBe(0);
    expect(a.registry).not.toBe(b.registry);
  });

  it('exports per-coverage score and technique gauges, capped at maxCoverages', async () => {
    const m = createMetrics({ maxCoverages: 2 });
    m.observer.scored?.('security-coverage--a', [{ name: 'DETECTION', score: 72 }, { name: 'PREVENTION', score: 40 }], { covered: 3, uncovered: 1, notTested: 2 });
    m.observer.scored?.('security-coverage--b', [{ name: 'DETECTION', score: 10 }], { covered: 0, uncovered: 4, notTested: 0 });
    m.observer.scored?.('security-coverage--c', [{ name: 'DETECTION', score: 99 }], { covered: 1, uncovered: 0, notTested: 0 });
    m.observer.scored?.('security-coverage--a', [{ name: 'DETECTION', score: 80 }, { name: 'PREVENTION', score: 40 }], { covered: 4, uncovered: 0, notTested: 2 });
    const text = await m.text();
    expect(text).toContain('coverage_connector_coverage_score{coverage_id="security-coverage--a",score="detection"} 80');
    expect(text).toContain('coverage_connector_coverage_score{coverage_id="security-coverage--a",score="prevention"} 40');
    expect(text).toContain('coverage_connector_coverage_techniques{coverage_id="security-coverage--a",state="covered"} 4');
    expect(text).toContain('coverage_connector_coverage_techniques{coverage_id="security-coverage--b",state="uncovered"} 4');
    expect(text).not.toContain('security-coverage--c');
    expect(text).toContain('coverage_connector_coverage_metrics_dropped_total 1');
  });

  it('combineObservers forwards every call to each observer', () => {
    const calls: string[][] = [];
    const recorder = (tag: string): JobObserver =>
      new Proxy({} as JobObserver, { get: (_t, key) => (...args: unknown[]) => calls.push([tag, String(key), ...args.map(String)]) });
    const both = combineObservers(recorder('a'), recorder('b'));
    both.failed('X', true);
    both.inFlight(3);
    expect(calls).toEqual([
      ['a', 'failed', 'X', 'true'],
      ['b', 'failed', 'X', 'true'],
      ['a', 'inFlight', '3'],
      ['b', 'inFlight', '3'],
    ]);
  });
});

describe('queue lag of platform messages', () => {
  it('reads the creation time from a platform work id', () => {
    expect(workIdTime('work_6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11_2026-02-12T10:00:00.000Z')).toEqual(new Date('2026-02-12T10:00:00.000Z'));
    expect(workIdTime('work_6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11_2026-02-12T10:00:00.000Z_ab12cd34')).toEqual(new Date('2026-02-12T10:00:00.000Z'));
  });

  it('gives nothing for an id without a timestamp', () => {
    expect(workIdTime('c1f7a1e4-7b7e-4d55-9f0a-3d1c2b4e5f60')).toBeUndefined();
    expect(workIdTime('work_x_2026-13-45T99:00:00Z')).toBeUndefined();
  });
});
