import type { ConsumeMessage } from 'amqplib';
import { describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FailureRule } from '../support/fake-opencti/server';
import { recordFigures } from './fault-results';

/**
 * Platform failures injected by the fake OpenCTI while the daemon processes a request: 5xx bursts,
 * timeouts, slow answers, malformed answers, transient GraphQL errors in a 200 body, a GraphQL error.
 * Transient ones are retried with backoff and end pushed; persistent or permanent ones end with the
 * work in error and the message in our dead-letter queue with its code and attempt count.
 */

const MAX_ATTEMPTS = 4;
const TIMEOUT_MS = 400;

interface Scenario {
  name: string;
  rule: FailureRule;
  expect: { outcome: 'pushed' } | { outcome: 'dead-lettered'; code: string; attempts: number };
}

const scenarios: Scenario[] = [
  { name: '5xx burst (3× HTTP 503)', rule: { kind: 'status', status: 503, times: 3, operations: ['CoverageState'] }, expect: { outcome: 'pushed' } },
  { name: 'HTTP 429 on push', rule: { kind: 'status', status: 429, times: 1, operations: ['StixBundlePush'] }, expect: { outcome: 'pushed' } },
  { name: 'timeouts (2× no answer within the timeout)', rule: { kind: 'slow', delayMs: TIMEOUT_MS * 3, times: 2, operations: ['CoverageState'] }, expect: { outcome: 'pushed' } },
  { name: 'slow answers within the timeout', rule: { kind: 'slow', delayMs: TIMEOUT_MS / 4, times: 6 }, expect: { outcome: 'pushed' } },
  { name: 'malformed answers (2× HTML instead of JSON)', rule: { kind: 'malformed', times: 2, operations: ['StixBundlePush'] }, expect: { outcome: 'pushed' } },
  { name: 'connection reset (2×)', rule: { kind: 'down', times: 2, operations: ['CoverageState'] }, expect: { outcome: 'pushed' } },
  { name: 'persistent 5xx', rule: { kind: 'status', status: 500, times: Infinity, operations: ['CoverageState'] }, expect: { outcome: 'dead-lettered', code: 'PLATFORM_UNAVAILABLE', attempts: MAX_ATTEMPTS } },
  { name: 'GraphQL error on push', rule: { kind: 'graphql-error', times: Infinity, operations: ['StixBundlePush'], message: 'Invalid bundle' }, expect: { outcome: 'dead-lettered', code: 'PLATFORM_REJECTED', attempts: 1 } },
  // Used to be dead-lettered at the first attempt as permanent: the platform's own hiccup, retried.
  { name: 'transient GraphQL error in a 200 body (2× INTERNAL_SERVER_ERROR)', rule: { kind: 'graphql-transient', times: 2, operations: ['CoverageState'] }, expect: { outcome: 'pushed' } },
  // A rejected token is not the message's fault: see platform-resilience.test.ts (circuit opens, nothing dead-lettered).
];

const figures: Record<string, unknown> = {};

describeWithBroker('fault: platform failures injected by the fake', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });
  afterAll(() => recordFigures('platform_failures', figures));

  it.each(scenarios.map((s) => [s.name, s] as const))('%s: bounded retries, then the right outcome', async (_name, scenario) => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start({ config: { opencti: { timeout_ms: TIMEOUT_MS }, worker: { max_attempts: MAX_ATTEMPTS, backoff_base_ms: 50, backoff_max_ms: 400 } } });
    h.fake.fail(scenario.rule);
    const started = Date.now();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);

    let dead: ConsumeMessage | undefined;
    if (scenario.expect.outcome === 'pushed') {
      await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 20000, 'the work');
    } else {
      [dead] = await h.takeMessages(h.dlq, 1, 20000);
    }
    const elapsedMs = Date.now() - started;
    const failed = h.fake.calls.filter((c) => c.failed);
    const ops = scenario.rule.operations;
    // Attempt times of the failing operation: the gaps show the backoff.
    const attemptsAt = h.fake.calls.filter((c) => (ops ? ops.includes(c.operationName) : c.operationName === 'CoverageState')).map((c) => c.at);
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]);
    const work = h.fake.state.works.get(workId);
    const headers = dead?.properties.headers ?? {};
    figures[scenario.name] = {
      injected_failures: failed.length,
      calls_of_failing_operation: attemptsAt.length,
      gaps_ms: gaps,
      outcome: dead ? `dead-lettered ${String(headers['x-error-code'])}` : 'pushed',
      job_attempts: dead ? headers['x-attempts'] : undefined,
      work_in_error: work?.processedCalls.some((p) => p.inError) ?? false,
      elapsed_ms: elapsedMs,
    };

    if (scenario.expect.outcome === 'pushed') {
      expect(h.fake.state.coverages.get(coverage.standardId)?.coverage?.length).toBeGreaterThan(0);
      expect(work?.processedCalls.every((p) => !p.inError)).toBe(true);
      expect(await h.queueDepth(h.dlq)).toBe(0);
      if (scenario.rule.times !== Infinity && scenario.rule.kind !== 'slow') expect(failed.length).toBe(scenario.rule.times);
    } else {
      expect(headers['x-error-code']).toBe(scenario.expect.code);
      expect(headers['x-attempts']).toBe(scenario.expect.attempts);
      expect(String(headers['x-error-reason']).length).toBeGreaterThan(0);
      expect(h.fake.state.coverages.get(coverage.standardId)?.coverage).toBeUndefined();
      expect(work?.processedCalls).toEqual([{ message: expect.stringContaining(scenario.expect.code), inError: true }]);
      if (scenario.expect.code === 'PLATFORM_UNAVAILABLE') {
        expect(attemptsAt).toHaveLength(MAX_ATTEMPTS);
        // Capped exponential backoff with jitter: each wait at least half its step, growing.
        expect(gaps[0]).toBeGreaterThanOrEqual(25);
        expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(gaps[0]);
      }
    }
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
  }, 30000);
});
