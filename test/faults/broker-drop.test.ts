import { describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { recordFigures } from './fault-results';
import { allClosedOk, closedCount, tally } from './fault-support';

/**
 * The broker link dropped mid-stream, twice: the daemon talks to RabbitMQ through a loopback proxy
 * this test owns; the proxy resets every connection and refuses new ones for OUTAGE_MS, then lets
 * them through. The daemon must reconnect by itself and every one of N coverages must end with its
 * result, none lost; redelivered copies must find the result stored and push nothing.
 */

const N = 150;
const OUTAGE_MS = 1000;

describeWithBroker('fault: broker connection dropped mid-stream', () => {
  let h: Harness;
  let proxy: TcpProxy;
  beforeEach(async () => {
    h = await createHarness();
    proxy = await startTcpProxy({ targetPort: Number(new URL(process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672').port || 5672) });
  });
  afterEach(async () => {
    await h.close();
    await proxy.close();
  });

  it(`reconnects after two link cuts and gives each of ${N} coverages its result, none lost`, async () => {
    const coverages: FakeCoverage[] = Array.from({ length: N }, (_, i) => h.reportCoverage([`T${1000 + (i % 900)}`]).coverage);
    const daemon = await h.start({
      config: {
        mq: { url: `amqp://guest:guest@127.0.0.1:${proxy.port}/` },
        worker: { concurrency: 8, prefetch: 20, max_attempts: 5, backoff_base_ms: 50, backoff_max_ms: 500, shutdown_grace_ms: 3000 },
      },
    });
    const started = Date.now();
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));

    const cuts: Array<{ at_closed: number; connections_cut: number; in_flight: number; reconnect_ms: number; first_result_after_ms: number }> = [];
    for (const fraction of [1 / 3, 2 / 3]) {
      await h.fake.until(() => closedCount(h, workIds) >= Math.floor(N * fraction), 60000, `${Math.round(fraction * 100)}% of the works`);
      const atClosed = closedCount(h, workIds);
      const inFlight = daemon.worker.inFlight;
      const connectionsCut = proxy.cut();
      await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage itself, not a synchronisation
      const restoredAt = Date.now();
      proxy.restore();
      await proxy.waitForOpen(1, 30000);
      const reconnectMs = Date.now() - restoredAt;
      const before = closedCount(h, workIds);
      await h.fake.until(() => closedCount(h, workIds) > before, 30000, 'a result after the reconnection');
      cuts.push({ at_closed: atClosed, connections_cut: connectionsCut, in_flight: inFlight, reconnect_ms: reconnectMs, first_result_after_ms: Date.now() - restoredAt });
    }

    await h.fake.until(() => allClosedOk(h, workIds), 90000, `all ${N} works closed`);
    const elapsed = Date.now() - started;
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);
    const dlq = await h.queueDepth(h.dlq);
    const t = tally(h, coverages, workIds);
    recordFigures('broker_drop', {
      messages: N,
      cuts,
      outage_ms: OUTAGE_MS,
      total_ms: elapsed,
      results_stored: t.withResult,
      lost: t.lost,
      pushed_twice: t.pushedTwice,
      redelivered: t.redelivered,
      duplicates_suppressed: t.duplicatesSuppressed,
      dead_lettered: dlq,
      broker_connections: proxy.accepted,
      refused_while_down: proxy.refused,
    });
    expect(cuts.every((c) => c.connections_cut >= 1)).toBe(true);
    expect(t.lost).toBe(0);
    expect(t.withResult).toBe(N);
    expect(t.inError).toBe(0);
    expect(dlq).toBe(0);
    // A copy cut mid-push is pushed again (the platform upserts by deterministic id); anything
    // beyond what was in flight at the cuts would be a real double processing.
    expect(t.pushedTwice).toBeLessThanOrEqual(cuts.reduce((n, c) => n + c.in_flight, 0));
    expect(daemon.broker.connected).toBe(true);
  }, 180000);
});
