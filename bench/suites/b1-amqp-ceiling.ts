import amqp from 'amqplib';
import { v4 as uuidv4 } from 'uuid';
import { FakeOpenCti } from '../../test/support/fake-opencti/server';
import { figure, type Figure, type SuiteOptions } from '../lib/figures';
import { generateTechniques } from '../lib/generate-evidence';
import { nowMs, round, withTimeout } from '../lib/measure';
import { addBenchCoverages } from '../lib/platform-content';

/**
 * B1 — the ceiling: how fast plain amqplib takes the SAME enrichment bodies as B2 (50 attack patterns,
 * persistent, durable queue) off the same broker with prefetch 100 and one manual ack per message.
 * The queue is filled first, then drained; only the drain is timed.
 */

export const PATTERNS_PER_COVERAGE = 50;

/** Enrichment message bodies exactly as the fake platform builds them (distinct works, same content shape). */
export function enrichmentBodies(seed: number, count: number, distinct = 8): Buffer[] {
  const fake = new FakeOpenCti({ amqpUrl: 'amqp://127.0.0.1' }); // never started: only builds messages
  const coverages = addBenchCoverages(fake.state, { seed, count: distinct, patterns: PATTERNS_PER_COVERAGE, catalogue: generateTechniques(seed) });
  return Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify(fake.enrichmentMessage('bench', coverages[i % distinct]).body)));
}

export async function runB1(options: SuiteOptions): Promise<Figure[]> {
  const count = options.quick ? 5000 : 50000;
  const bodies = enrichmentBodies(options.seed, 64);
  const queue = `bench.b1.${uuidv4()}`;
  const conn = await amqp.connect(options.amqpUrl);
  try {
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    for (let i = 0; i < count; i += 1) {
      pub.sendToQueue(queue, bodies[i % bodies.length], { persistent: true, contentType: 'application/json' });
      if (i % 500 === 499) await pub.waitForConfirms();
    }
    await pub.waitForConfirms();
    await pub.close();

    const ch = await conn.createChannel();
    await ch.prefetch(100);
    let received = 0;
    let bytes = 0;
    let started = 0;
    const drained = new Promise<number>((resolve) => {
      void ch.consume(queue, (m) => {
        if (!m) return;
        if (received === 0) started = nowMs();
        received += 1;
        bytes += m.content.length;
        ch.ack(m);
        if (received === count) resolve(nowMs());
      });
    });
    const ended = await withTimeout(drained, options.quick ? 60_000 : 180_000, 'B1 drain');
    const seconds = (ended - started) / 1000;
    await ch.deleteQueue(queue);
    await ch.close();
    const rate = count / seconds;
    options.log(`B1: ${count} messages of ${round(bytes / count / 1024)} KiB in ${round(seconds, 2)} s`);
    return [
      figure('B1', 'msgs_per_s', { msgs_per_s: round(rate), mib_per_s: round(bytes / seconds / 1024 / 1024), messages: count, body_kib: round(bytes / count / 1024) }, null),
    ];
  } finally {
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(queue).catch(() => undefined);
      await ch.close().catch(() => undefined);
    } catch {
      // connection already gone: the queue is not exclusive, but it was deleted on the normal path
    }
    await conn.close().catch(() => undefined);
  }
}
