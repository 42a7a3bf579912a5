import { Writable } from 'node:stream';
import { createLogger } from '../../src/app/logger';
import { AssessmentError } from '../../src/errors';
import { describeWithBroker } from '../support/env';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { recordFigures } from './fault-results';
import { allClosedOk } from './fault-support';

/**
 * The broker going away and coming back, through a loopback TCP proxy this test owns (the shared
 * RabbitMQ is never stopped): the daemon must be consuming again within 2 s of the broker's return,
 * however long it was away, and a poison message must give exactly one dead letter even when the
 * link breaks while dead letters are being published and acknowledged.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const brokerPort = (): number => Number(new URL(process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672').port || 5672);

const figures: Record<string, unknown> = {};

describeWithBroker('fault: broker away and back', () => {
  let h: Harness;
  let proxy: TcpProxy;
  beforeEach(async () => {
    h = await createHarness();
    proxy = await startTcpProxy({ targetPort: brokerPort() });
  });
  afterEach(async () => {
    await h.close();
    await proxy.close();
  });
  afterAll(() => recordFigures('broker_resilience', figures));

  it('reconnects within 2 s of the broker coming back after a 4 s outage, and consumes again', async () => {
    const OUTAGE_MS = 4000;
    const daemon = await h.start({ config: { mq: { url: `amqp://guest:guest@127.0.0.1:${proxy.port}/` } } });
    proxy.cut();
    await sleep(OUTAGE_MS); // the outage itself: long enough for an exponential backoff to have grown past 2 s
    const refusedDuringOutage = proxy.refused;
    const restoredAt = Date.now();
    proxy.restore();
    await proxy.waitForOpen(1, 10000);
    const linkMs = Date.now() - restoredAt;
    while (!daemon.broker.connected) await sleep(10);
    const reconnectMs = Date.now() - restoredAt;
    const { coverage } = h.reportCoverage(['T1059']);
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => allClosedOk(h, [workId]), 15000, 'a work after the reconnection');
    figures['broker back after an outage'] = {
      outage_ms: OUTAGE_MS,
      connection_attempts_refused_during_outage: refusedDuringOutage,
      first_connection_after_ms: linkMs,
      reconnect_ms: reconnectMs,
      first_result_after_ms: Date.now() - restoredAt,
    };
    expect(refusedDuringOutage).toBeGreaterThanOrEqual(3); // kept trying about every second
    expect(reconnectMs).toBeLessThanOrEqual(2000);
  }, 60000);

  it('one dead letter per poison message when the link breaks three times while 50 of them are being dead-lettered', async () => {
    const N = 50;
    // Every assessment fails for good (a poison message), after a little work so that dead-letter
    // publishes and acks are in flight when the link breaks.
    const poison = fakeAssessor({
      onAssess: async () => {
        await sleep(80);
        throw new AssessmentError('poison: this container can never be assessed');
      },
    });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    await h.start({
      assessor: poison,
      daemon: { log: createLogger('info', sink) },
      config: {
        mq: { url: `amqp://guest:guest@127.0.0.1:${proxy.port}/` },
        worker: { concurrency: 8, prefetch: 20, max_attempts: 3, backoff_base_ms: 20, backoff_max_ms: 100 },
      },
    });
    const coverages = Array.from({ length: N }, (_, i) => h.reportCoverage([`T${1100 + i}`]).coverage);
    // The link breaks right when dead letters are on their way: the worker closes a poison message's
    // work in error just before publishing its dead letter, so the 1st, 15th and 30th such closing
    // (seen by the stand-in platform) trigger a cut a millisecond later. Some publishes are then cut
    // off before the confirm, some acks of confirmed dead letters are lost: both bring the original
    // back, redelivered. (The DLQ is only read at the end, as an operator would.)
    const cuts: number[] = [];
    const CUT_AT = new Set([1, 15, 30]);
    let closedInError = 0;
    h.fake.state.on('change', () => {
      const n = [...h.fake.state.works.values()].filter((w) => w.processedCalls.some((p) => p.inError)).length;
      if (n === closedInError) return;
      closedInError = n;
      if (!CUT_AT.has(n)) return;
      setTimeout(() => {
        cuts.push(proxy.cut());
        setTimeout(() => proxy.restore(), 300);
      }, 1);
    });
    await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    const deadline = Date.now() + 60000;
    while ((await h.queueDepth(h.dlq)) < N && Date.now() < deadline) await sleep(100);
    await sleep(2000); // anything more that would come (a duplicate) comes now
    const depth = await h.queueDepth(h.dlq);
    const dead = await h.takeMessages(h.dlq, depth, 10000);
    const extra = await h.queueDepth(h.dlq);
    const perCoverage = new Map<string, number>();
    for (const m of dead) {
      const id = String(m.properties.headers?.['x-coverage-id']);
      perCoverage.set(id, (perCoverage.get(id) ?? 0) + 1);
    }
    figures['poison messages across broker link cuts'] = {
      poison_messages: N,
      link_cuts: cuts.length,
      connections_cut: cuts,
      dlq_entries: dead.length + extra,
      distinct_messages_in_dlq: perCoverage.size,
      duplicates: dead.length + extra - perCoverage.size,
      redelivered_copies_acked_without_a_second_dead_letter: logs.join('').split('already dead-lettered').length - 1,
      assessments_run: poison.calls.length,
    };
    expect(cuts.every((n) => n >= 1)).toBe(true);
    expect(perCoverage.size).toBe(N);
    expect(extra).toBe(0);
    expect([...perCoverage.values()].every((n) => n === 1)).toBe(true);
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
  }, 90000);
});
