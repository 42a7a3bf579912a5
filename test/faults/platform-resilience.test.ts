import { Writable } from 'node:stream';
import type { Daemon } from '../../src/app/main';
import { describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FailureRule } from '../support/fake-opencti/server';
import type { FakeCoverage } from '../support/fake-opencti/state';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { recordFigures } from './fault-results';
import { allClosedOk, closedCount } from './fault-support';

/**
 * The platform slow, down, or refusing the token while the daemon works through a queue (real
 * RabbitMQ, stand-in platform). What must hold: a call never holds a job past its deadline, slow calls
 * do not starve the other messages, an outage or a revoked token dead-letters nothing and pauses
 * consumption (circuit breaker), every work is closed once the platform is back, and the token never
 * appears in a log line. Timings are scaled down (deadlines of 0.5-1 s, outages of 3 s); the
 * mechanisms do not depend on the scale.
 */

interface LogSink {
  stream: Writable;
  text(): string;
  count(pattern: string): number;
}

function logSink(): LogSink {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    }),
    text: () => chunks.join(''),
    count: (pattern) => chunks.join('').split(pattern).length - 1,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const setToken = (h: Harness, token: string): void => {
  (h.fake as unknown as { token: string }).token = token;
};
async function readyz(daemon: Daemon): Promise<{ status: number; body: { checks?: Record<string, { ok: boolean; detail?: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${daemon.httpPort}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, { ok: boolean; detail?: string }> } };
}
/** Resolves when `predicate` holds (polled: the daemon's state has no event for it). */
async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const figures: Record<string, unknown> = {};

describeWithBroker('fault: platform slow, down or refusing the token', () => {
  let h: Harness;
  let proxy: TcpProxy | undefined;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(() => recordFigures('platform_resilience', figures));

  const coveragesOf = (n: number): FakeCoverage[] => Array.from({ length: n }, (_, i) => h.reportCoverage([`T${1000 + (i % 900)}`]).coverage);
  /** A daemon with concurrency 4 and a short per-call deadline, whose first 4 coverage reads fail as `rule` says. */
  async function startWithBadReads(deadlineMs: number, rule: FailureRule, backoff: { backoff_base_ms: number; backoff_max_ms: number }): Promise<void> {
    await h.start({ config: { opencti: { timeout_ms: deadlineMs }, worker: { concurrency: 4, prefetch: 20, max_attempts: 3, job_timeout_ms: 20000, ...backoff } } });
    h.fake.fail({ ...rule, times: 4, operations: ['CoverageState'] });
  }

  it('token revoked after start: circuit opens, 0 of 50 dead-lettered, /readyz not ready, all works closed once the token works again', async () => {
    const N = 50;
    const logs = logSink();
    const coverages = coveragesOf(N);
    const daemon = await h.start({
      config: {
        connector: { log_level: 'info' },
        http: { enabled: true, port: 0 },
        opencti: { breaker_failures: 3, breaker_probe_base_ms: 50, breaker_probe_max_ms: 200 },
        worker: { concurrency: 4, prefetch: 10, max_attempts: 3, backoff_base_ms: 20, backoff_max_ms: 100 },
      },
      daemon: { log: undefined, logDestination: logs.stream },
    });
    const token = h.fake.token;
    setToken(h, 'rotated-by-the-operator');
    const revokedAt = Date.now();
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await until(() => daemon.breaker.state !== 'closed', 10000, 'the circuit to open');
    const openedAfterMs = Date.now() - revokedAt;
    // An observation window while the token is refused: nothing may reach the DLQ, nothing is consumed.
    await sleep(1000);
    const whileOpen = { dlq: await h.queueDepth(h.dlq), listen: await h.queueDepth(`listen_${h.connectorId}`), readyz: await readyz(daemon), closed: closedCount(h, workIds) };
    const probes = daemon.breaker.snapshot().failedProbes;

    setToken(h, token);
    const restoredAt = Date.now();
    await h.fake.until(() => allClosedOk(h, workIds), 90000, `all ${N} works closed`);
    const recoveryMs = Date.now() - restoredAt;
    const dlqAfter = await h.queueDepth(h.dlq);
    figures['token revoked (401 on every call)'] = {
      messages: N,
      circuit_opened_after_ms: openedAfterMs,
      dead_lettered_while_revoked: whileOpen.dlq,
      left_in_listen_queue_while_revoked: whileOpen.listen,
      readyz_while_revoked: whileOpen.readyz.status,
      failed_probes_while_revoked: probes,
      works_closed_after_recovery: `${closedCount(h, workIds)}/${N}`,
      recovery_ms: recoveryMs,
      dead_lettered_total: dlqAfter,
      token_occurrences_in_logs: logs.count(token),
    };
    expect(whileOpen.dlq).toBe(0);
    expect(whileOpen.listen).toBe(N); // consumption paused, every held message requeued
    expect(whileOpen.closed).toBe(0);
    expect(whileOpen.readyz.status).toBe(503);
    expect(whileOpen.readyz.body.checks?.platform_circuit).toEqual({ ok: false, detail: expect.stringContaining('OPENCTI_TOKEN') });
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(dlqAfter).toBe(0);
    expect(logs.text()).toMatch(/circuit open: OpenCTI rejected the token, check OPENCTI_TOKEN/);
    expect(logs.count(token)).toBe(0);
    expect((await readyz(daemon)).status).toBe(200);
  }, 120000);

  it('platform refusing connections for 2 s mid-stream: 0 of 24 dead-lettered, every work closed after it returns', async () => {
    const N = 24;
    const OUTAGE_MS = 2000;
    proxy = await startTcpProxy({ targetPort: Number(new URL(h.fake.url).port) });
    const coverages = coveragesOf(N);
    const logs = logSink();
    const daemon = await h.start({
      config: {
        connector: { log_level: 'info' },
        opencti: { url: `http://127.0.0.1:${proxy.port}`, timeout_ms: 2000, breaker_failures: 5, breaker_probe_base_ms: 100, breaker_probe_max_ms: 400 },
        // The retry budget alone (4 attempts, ≤ 150 ms apart) is far shorter than the outage.
        worker: { concurrency: 4, prefetch: 10, max_attempts: 4, backoff_base_ms: 50, backoff_max_ms: 150 },
      },
      daemon: { log: undefined, logDestination: logs.stream },
    });
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => closedCount(h, workIds) >= N / 4, 60000, 'a quarter of the works');
    const closedBefore = closedCount(h, workIds);
    proxy.cut();
    await sleep(OUTAGE_MS); // the outage itself
    const during = { dlq: await h.queueDepth(h.dlq), state: daemon.breaker.state, trips: daemon.breaker.snapshot().trips };
    const restoredAt = Date.now();
    proxy.restore();
    await h.fake.until(() => allClosedOk(h, workIds), 90000, `all ${N} works closed`);
    figures['platform refusing connections'] = {
      messages: N,
      outage_ms: OUTAGE_MS,
      closed_before_outage: closedBefore,
      circuit_state_during_outage: during.state,
      dead_lettered: await h.queueDepth(h.dlq),
      works_closed_after_recovery: `${closedCount(h, workIds)}/${N}`,
      works_in_error: workIds.filter((id) => h.fake.state.works.get(id)?.processedCalls.some((p) => p.inError)).length,
      recovery_ms: Date.now() - restoredAt,
      refused_connections: proxy.refused,
      token_occurrences_in_logs: logs.count(h.fake.token),
    };
    expect(during.dlq).toBe(0);
    expect(during.state).not.toBe('closed');
    expect(await h.queueDepth(h.dlq)).toBe(0);
    expect(workIds.every((id) => h.fake.state.works.get(id)?.processedCalls.every((p) => !p.inError))).toBe(true);
    expect(logs.count(h.fake.token)).toBe(0);
  }, 120000);

  it('answers trickling 1 byte at a time: each call is cut at its deadline, the queue keeps moving', async () => {
    const DEADLINE_MS = 500;
    const coverages = coveragesOf(14);
    // The first 4 reads of a coverage trickle (one byte every 100 ms, never done): all 4 slots at once.
    await startWithBadReads(DEADLINE_MS, { kind: 'trickle', delayMs: 100, times: 4 }, { backoff_base_ms: 20, backoff_max_ms: 50 });
    const started = Date.now();
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => allClosedOk(h, workIds), 60000, 'all works closed');
    const elapsed = Date.now() - started;
    // The 4 trickled reads hold all 4 slots: no other read can start until one is cut. The gap from
    // the last trickled read to the next read is how long consumption stalled.
    const reads = h.fake.calls.filter((c) => c.operationName === 'CoverageState');
    const trickled = reads.filter((c) => c.failed === 'trickle');
    const lastTrickled = trickled[trickled.length - 1];
    const nextRead = reads.find((r) => r.at >= lastTrickled.at && !r.failed);
    const stalledMs = (nextRead?.at ?? Infinity) - lastTrickled.at;
    figures['answers trickling 1 byte at a time'] = { deadline_ms: DEADLINE_MS, trickled_calls: trickled.length, consumption_stalled_ms: stalledMs, messages: workIds.length, all_done_ms: elapsed, dead_lettered: await h.queueDepth(h.dlq) };
    expect(trickled).toHaveLength(4);
    // Cut at the deadline (+ scheduling): never the minutes an idle timeout allows.
    expect(stalledMs).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(stalledMs).toBeLessThan(DEADLINE_MS + 1000);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  }, 90000);

  it('4 hung calls with concurrency 4: the 10 other messages wait at most about one deadline (no head-of-line blocking)', async () => {
    const DEADLINE_MS = 1000;
    const hung = coveragesOf(4);
    const good = coveragesOf(10);
    // Answers after 2.5 s: never within the 1 s deadline, short enough not to outlive the test.
    await startWithBadReads(DEADLINE_MS, { kind: 'slow', delayMs: 2500, times: 4 }, { backoff_base_ms: 200, backoff_max_ms: 400 });
    const started = Date.now();
    const hungIds = await Promise.all(hung.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    const goodIds = await Promise.all(good.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => allClosedOk(h, goodIds), 60000, 'the good works');
    const goodDoneMs = Date.now() - started;
    await h.fake.until(() => allClosedOk(h, hungIds), 60000, 'the hung works (retried)');
    figures['4 hung calls, concurrency 4'] = { deadline_ms: DEADLINE_MS, good_messages: goodIds.length, good_all_done_ms: goodDoneMs, hung_all_done_ms: Date.now() - started, dead_lettered: await h.queueDepth(h.dlq) };
    // The hung calls hold the 4 slots for one deadline; their retries wait outside the slots.
    expect(goodDoneMs).toBeLessThan(DEADLINE_MS + 5000);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  }, 90000);

  it('draft_id with NUL, CRLF or an RTL override: one invalid message each, dead-lettered at once with the reason', async () => {
    await h.start();
    const bad = ['d\u0000raft', 'draft\r\nX-Injected: 1', 'draft\u202egnp'];
    const started = Date.now();
    const workIds: string[] = [];
    for (const draft of bad) {
      const { coverage } = h.reportCoverage(['T1059']);
      workIds.push(await h.fake.publishEnrichment(h.connectorId, coverage, { mutate: (m) => void ((m.internal as Record<string, unknown>).draft_id = draft) }));
    }
    const dead = await h.takeMessages(h.dlq, bad.length, 20000);
    const elapsed = Date.now() - started;
    const headers = dead.map((d) => d.properties.headers ?? {});
    figures['draft_id with NUL / CRLF / RTL'] = { messages: bad.length, dead_lettered: dead.length, codes: headers.map((x) => x['x-error-code']), attempts: headers.map((x) => x['x-attempts']), all_dead_lettered_ms: elapsed };
    expect(headers.map((x) => x['x-error-code'])).toEqual(['MESSAGE_INVALID', 'MESSAGE_INVALID', 'MESSAGE_INVALID']);
    expect(headers.every((x) => x['x-attempts'] === 1 && /internal\.draft_id: must be/.test(String(x['x-error-reason'])))).toBe(true);
    expect(headers.every((x) => !/[\u0000\r\n\u202e]/.test(String(x['x-error-reason'])))).toBe(true);
    await h.fake.until(() => workIds.every((id) => h.fake.state.works.get(id)?.processedCalls.some((p) => p.inError)), 10000, 'the works closed in error');
  }, 60000);
});
