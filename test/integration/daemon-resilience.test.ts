import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { describeWithBroker } from '../support/env';
import type { FakeCoverage } from '../support/fake-opencti/state';

/** Concurrency, restarts, platform-side resets and broker-side recovery. */

describeWithBroker('daemon: concurrency and recovery', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const coverages = (n: number): FakeCoverage[] => Array.from({ length: n }, (_, i) => h.reportCoverage([`T${1000 + i}`, 'T1059']).coverage);
  const coveragePushes = (c: FakeCoverage): number =>
    h.fake.state.pushes.filter((p) => p.objects.some((o) => o.type === 'security-coverage' && o.id === c.standardId)).length;

  it('processes 20 messages with up to worker.concurrency at once, each pushed once', async () => {
    const concurrency = 5;
    let active = 0;
    let maxActive = 0;
    let waiting: Array<() => void> = [];
    const assessor = fakeAssessor({
      // A barrier: the first `concurrency` assessments only proceed once all of them run at the same time.
      onAssess: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        if (waiting !== undefined && maxActive <= concurrency && assessor.calls.length <= concurrency) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === concurrency) {
              for (const r of waiting) r();
              waiting = [];
            }
          });
        }
        active -= 1;
      },
    });
    const all = coverages(20);
    await h.start({ assessor, config: { worker: { concurrency, prefetch: 10 } } });
    const workIds = await Promise.all(all.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => workIds.every((id) => h.fake.state.works.get(id)?.status === 'complete'), 30000, 'all 20 works');
    expect(maxActive).toBe(concurrency);
    expect(all.map(coveragePushes)).toEqual(all.map(() => 1));
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  }, 40000);

  it('loses nothing when restarted mid-stream: unfinished messages are redelivered, results pushed once per coverage', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const blocking = fakeAssessor({
      onAssess: async () => {
        started += 1;
        if (started > 2) await gate; // the first two finish, the rest hang until shutdown
      },
    });
    const all = coverages(8);
    const first = await h.start({ assessor: blocking, config: { worker: { concurrency: 2, prefetch: 4, shutdown_grace_ms: 200 } } });
    const workIds = await Promise.all(all.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => workIds.filter((id) => h.fake.state.works.get(id)?.status === 'complete').length >= 2, 15000, 'two works');
    await first.close();
    release(); // the aborted jobs now return; they must not push nor settle again

    const second = fakeAssessor();
    await h.start({ assessor: second });
    await h.fake.until(() => workIds.every((id) => h.fake.state.works.get(id)?.status === 'complete'), 20000, 'all works after restart');
    expect(all.map(coveragePushes)).toEqual(all.map(() => 1));
    expect(await h.queueDepth(h.dlq)).toBe(0);
  }, 40000);

  it('registers again when a ping says the connector was deleted', async () => {
    const daemon = await h.start();
    h.fake.state.connectors.delete(h.connectorId);
    await daemon.pingNow();
    expect(h.fake.callsOf('RegisterConnector')).toHaveLength(2);
    expect(h.fake.state.connectors.get(h.connectorId)?.registrations).toBe(1);
  });

  it('adopts the empty state after an operator reset', async () => {
    const daemon = await h.start();
    daemon.connectorState = '{"cursor":"42"}';
    await daemon.pingNow();
    expect(h.fake.state.connectors.get(h.connectorId)?.state).toBe('{"cursor":"42"}');
    const connector = h.fake.state.connectors.get(h.connectorId);
    if (connector) connector.stateReset = true;
    await daemon.pingNow();
    expect(daemon.connectorState).toBe('');
    await daemon.pingNow();
    expect(h.fake.callsOf('PingConnector').at(-1)?.variables.state).toBe('');
  });

  it('keeps pinging through a platform outage without stopping', async () => {
    const daemon = await h.start();
    h.fake.fail({ kind: 'down', times: 1, operations: ['PingConnector'] });
    await daemon.pingNow();
    await daemon.pingNow();
    expect(h.fake.state.connectors.get(h.connectorId)?.pings).toBe(1);
  });

  it('resumes consuming after the listen queue disappears and the platform declares it again', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    const daemon = await h.start();
    // The platform deletes the queue (connector removed): the broker cancels our consumer.
    const amqp = await import('amqplib');
    const conn = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(`listen_${h.connectorId}`);
      await ch.close();
    } finally {
      await conn.close();
    }
    // Ping re-declares it (the platform does so on every ping); our consumer comes back by itself.
    await daemon.pingNow();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 20000, 'the work after recovery');
    expect(daemon.broker.connected).toBe(true);
  }, 30000);
});
