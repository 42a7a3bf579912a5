import type { ConsumeMessage } from 'amqplib';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { describeWithBroker } from '../support/env';

/** Failure paths: every message ends acked with its outcome recorded, or dead-lettered with the reason. */

const header = (m: ConsumeMessage, name: string): unknown => (m.properties.headers ?? {})[name];

describeWithBroker('daemon: failures and dead-lettering', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function deadLettered(): Promise<ConsumeMessage> {
    const [m] = await h.takeMessages(h.dlq, 1);
    return m;
  }

  it('dead-letters a message whose body is not JSON, keeping body and messageId', async () => {
    await h.start();
    await h.fake.publishRaw(h.connectorId, '{not json', 'msg-not-json');
    const m = await deadLettered();
    expect(m.content.toString()).toBe('{not json');
    expect(m.properties.messageId).toBe('msg-not-json');
    expect(header(m, 'x-error-code')).toBe('MESSAGE_INVALID');
    expect(String(header(m, 'x-error-reason'))).toContain('not valid JSON');
    expect(header(m, 'x-attempts')).toBe(1);
    expect(header(m, 'x-original-queue')).toBe(`listen_${h.connectorId}`);
    expect(new Date(String(header(m, 'x-first-failure'))).toISOString()).toBe(header(m, 'x-first-failure'));
    expect(header(m, 'x-last-failure')).toEqual(expect.any(String));
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
  });

  it('dead-letters a message with wrong field types and closes its work in error', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    await h.start();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage, {
      mutate: (msg) => {
        (msg.event as Record<string, unknown>).stix_entity = { not: 'a string' };
      },
    });
    const m = await deadLettered();
    expect(header(m, 'x-error-code')).toBe('MESSAGE_INVALID');
    expect(String(header(m, 'x-error-reason'))).toContain('event.stix_entity');
    expect(header(m, 'x-work-id')).toBe(workId);
    expect(header(m, 'x-coverage-id')).toBe(coverage.standardId);
    const work = h.fake.state.works.get(workId);
    expect(work?.processedCalls).toEqual([{ message: expect.stringContaining('MESSAGE_INVALID'), inError: true }]);
  });

  it('dead-letters an entity the connector cannot assess (stix_entity is not a security-coverage)', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    await h.start();
    await h.fake.publishEnrichment(h.connectorId, coverage, {
      mutate: (msg) => {
        const event = msg.event as Record<string, unknown>;
        event.stix_entity = JSON.stringify({ type: 'malware', id: 'malware--6b2d5a0e-0000-4000-8000-000000000001' });
        event.entity_id = 'malware--6b2d5a0e-0000-4000-8000-000000000001';
      },
    });
    const m = await deadLettered();
    expect(header(m, 'x-error-code')).toBe('MESSAGE_INVALID');
    expect(String(header(m, 'x-error-reason'))).toContain('unknown entity type');
  });

  it('dead-letters a coverage whose container has no attack pattern', async () => {
    const { coverage } = h.reportCoverage([]);
    await h.start();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const m = await deadLettered();
    expect(header(m, 'x-error-code')).toBe('NO_ATTACK_PATTERNS');
    expect(h.fake.state.works.get(workId)?.processedCalls[0]).toEqual({ message: expect.stringContaining('NO_ATTACK_PATTERNS'), inError: true });
    expect(h.fake.state.pushes).toHaveLength(0);
  });

  it('retries through platform 500s and then succeeds without dead-lettering', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start();
    h.fake.fail({ kind: 'status', status: 500, times: 2, operations: ['CoverageState'] });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the work to be processed');
    expect(work.status).toBe('complete');
    expect(h.fake.calls.filter((c) => c.operationName === 'CoverageState' && c.failed === 'status')).toHaveLength(2);
    expect(work.processedCalls).toEqual([{ message: expect.stringContaining('Pushed'), inError: false }]);
    expect(work.expected).toBe(work.processed);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  });

  it('does not double-count expectations when a push fails midway and is retried', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003', 'T1566']);
    await h.start();
    // First push succeeds (it carries the work's toReceived), second fails once: the retry must push only what is left.
    const PUSHES = ['StixBundlePushReceived', 'StixBundlePush'];
    let pushes = 0;
    h.fake.state.on('change', () => {
      const n = h.fake.calls.filter((c) => PUSHES.includes(c.operationName)).length;
      if (n === 1 && pushes === 0) {
        pushes = 1;
        h.fake.fail({ kind: 'status', status: 502, times: 1, operations: PUSHES });
      }
    });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the work');
    const ids = new Set(h.fake.state.pushes.filter((p) => p.workId === workId).flatMap((p) => p.objects.map((o) => o.id)));
    expect(h.fake.calls.filter((c) => PUSHES.includes(c.operationName) && c.failed)).toHaveLength(1);
    // What went through before the failure is counted, then what the retry pushed: never an object twice.
    const added = h.fake.callsOf('WorkAddExpectations').reduce((n, c) => n + Number(c.variables.expectations), 0);
    expect(added).toBe(ids.size);
    expect(h.fake.callsOf('StixBundlePushReceived')).toHaveLength(1);
    expect(h.fake.callsOf('StixBundlePush')).toHaveLength(ids.size - 1);
    expect(work.expected).toBe(ids.size);
    expect(work.processed).toBe(ids.size);
    expect(work.status).toBe('complete');
  });

  it('dead-letters after max_attempts when the platform stays down, with the attempts and reason', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    const assessor = fakeAssessor();
    await h.start({ assessor, config: { worker: { max_attempts: 3 } } });
    h.fake.fail({ kind: 'down', times: Infinity, operations: ['WorkToReceived', 'CoverageState', 'WorkToProcessed'] });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const m = await deadLettered();
    expect(header(m, 'x-error-code')).toBe('PLATFORM_UNAVAILABLE');
    expect(header(m, 'x-attempts')).toBe(3);
    expect(String(header(m, 'x-error-reason'))).toMatch(/gave up after 3 attempt/);
    expect(header(m, 'x-work-id')).toBe(workId);
    expect(Date.parse(String(header(m, 'x-last-failure')))).toBeGreaterThanOrEqual(Date.parse(String(header(m, 'x-first-failure'))));
    expect(JSON.parse(m.content.toString('utf8')).internal.work_id).toBe(workId);
    expect(assessor.calls).toHaveLength(0);
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
  });

  it('refuses a wrong token at startup instead of retrying forever', async () => {
    await expect(h.start({ config: { opencti: { token: 'wrong' } } })).rejects.toMatchObject({ code: 'PLATFORM_AUTH' });
  });
});
