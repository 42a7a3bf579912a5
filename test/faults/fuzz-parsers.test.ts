import { EnrichmentMessageSchema } from '../../schemas/message';
import type { Delivery } from '../../src/adapters/amqp/broker';
import type { CoverageApi } from '../../src/adapters/opencti/coverage-api';
import { runEnrichment, type JobDeps } from '../../src/app/enrichment-job';
import { createLogger } from '../../src/app/logger';
import { noopObserver } from '../../src/app/job-observer';
import { createWorker } from '../../src/app/worker';
import { resolveCoverageRequest } from '../../src/domain/coverage/technique-resolution';
import type { StixObject } from '../../src/domain/stix/stix-types';
import { ConnectorError, ERROR_CODES } from '../../src/errors';
import { fakeAssessor } from '../support/fake-opencti/harness';
import { recordFigures, seededRandom } from './fault-results';
import { fuzzBundle, fuzzCase, POLLUTION_MARK } from './fuzz-inputs';

/**
 * Fuzzing the two readers of untrusted input: the enrichment message (schemas/message.ts + the
 * worker's parse step, run through a real worker with in-memory ports) and the bundle reader
 * (resolveCoverageRequest). 0 crashes = every input ends as a result or a ConnectorError with a code
 * and a reason; Object.prototype stays clean; the heap stays bounded.
 */

const SEED = 0x5ec0fe;
const MESSAGE_CASES = 5000;
const BUNDLE_CASES = 5000;
const MAX_TECHNIQUES = 50;
const HEAP_BUDGET_MB = 384;

const KNOWN_CODES = new Set<string>(ERROR_CODES.filter((c) => c !== 'UNEXPECTED'));
const prototypeKeys = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

function assertUnpolluted(): void {
  expect(({} as Record<string, unknown>)[POLLUTION_MARK]).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>)[POLLUTION_MARK]).toBeUndefined();
}

/** In-memory platform ports: a coverage that exists, no stored results, pushes recorded. */
function memoryCoverage(): CoverageApi {
  return {
    getCoverage: async (id) => ({ id, standardId: id, name: 'fuzz', autoEnrichmentDisable: false, notes: [], hasCovered: [] }),
    listHasCovered: async () => [],
    listAttackPatterns: async () => [],
    deleteRelationship: async () => undefined,
    pushBundle: async () => undefined,
  };
}

interface Settled {
  how: 'ack' | 'nack' | 'dead-letter';
  code?: string;
  reason?: string;
}

function delivery(body: Buffer, tag: number, onSettle: (how: 'ack' | 'nack') => void): Delivery {
  let settled = false;
  const settle = (how: 'ack' | 'nack'): void => {
    if (settled) throw new Error(`delivery ${tag} settled twice`);
    settled = true;
    onSettle(how);
  };
  return {
    content: body,
    headers: {},
    properties: { headers: {} } as Delivery['properties'],
    redelivered: false,
    deliveryTag: tag,
    ack: () => settle('ack'),
    nackRequeue: () => settle('nack'),
    get settled() {
      return settled;
    },
    lost: new AbortController().signal,
  };
}

describe('fuzzing the message parser and the bundle reader', () => {
  const before = prototypeKeys();
  afterAll(() => {
    expect(prototypeKeys()).toEqual(before);
    assertUnpolluted();
  });

  it(`settles ${MESSAGE_CASES} generated malformed deliveries with a result or a coded error, never a crash`, async () => {
    const random = seededRandom(SEED);
    const outcomes = new Map<number, Settled>();
    const deadLetters = new Map<number, { code: string; reason: string }>();
    const schemaThrows: string[] = [];
    const kinds: Record<string, number> = {};
    let largestBody = 0;
    const heapStart = process.memoryUsage().heapUsed;
    let heapPeak = heapStart;

    const jobDeps: JobDeps = {
      coverage: memoryCoverage(),
      assessor: fakeAssessor(),
      work: { expected: async () => 0, addExpectations: async () => undefined, tracking: async () => ({ expected: 0, processed: 0 }), add: async () => 'w2', toProcessed: async () => undefined },
      pushOne: () => async () => undefined,
      settings: {
        scope: ['security-coverage'],
        rollupSubtechniques: true,
        maxTechniques: MAX_TECHNIQUES,
        defaultPeriodicity: 'P1D',
        timezone: 'UTC',
        externalUri: { platformPublicUrl: 'http://opencti.test' },
      },
      observer: noopObserver,
      clock: () => new Date(),
    };
    const worker = createWorker({
      log: createLogger('silent'),
      observer: noopObserver,
      work: { toReceived: async () => undefined, toProcessed: async () => undefined, addExpectations: async () => undefined, ping: async () => undefined, expected: async () => 0, tracking: async () => ({ expected: 0, processed: 0 }), add: async () => 'w2' },
      job: (message, ctx) => runEnrichment(jobDeps, message, ctx),
      deadLetter: async (d, info) => {
        deadLetters.set(d.deliveryTag, { code: info.code, reason: info.reason });
      },
      listenQueue: 'listen_fuzz',
      concurrency: 8,
      maxMessageBytes: 4 * 1024 * 1024,
      // One attempt: an unexpected error is dead-lettered at once as UNEXPECTED (counted as a crash).
      policy: { maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 },
    });

    const BATCH = 200;
    for (let start = 0; start < MESSAGE_CASES; start += BATCH) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(MESSAGE_CASES, start + BATCH); i++) {
        const c = fuzzCase(random, i);
        kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
        largestBody = Math.max(largestBody, c.body.length);
        // The schema alone, on whatever JSON.parse makes of the body: must never throw.
        try {
          EnrichmentMessageSchema.safeParse(JSON.parse(c.body.toString('utf8')));
        } catch (err) {
          if (!(err instanceof SyntaxError)) schemaThrows.push(`${i}: ${(err as Error).message}`);
        }
        batch.push(
          new Promise<void>((resolve) => {
            worker.handle(
              delivery(c.body, i, (how) => {
                outcomes.set(i, { how });
                resolve();
              }),
            );
          }),
        );
      }
      await Promise.all(batch);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      assertUnpolluted();
    }
    await worker.drain(1000);

    const byCode: Record<string, number> = {};
    let acked = 0;
    for (const [tag, o] of outcomes) {
      if (o.how !== 'ack') continue;
      const dl = deadLetters.get(tag);
      if (dl) byCode[dl.code] = (byCode[dl.code] ?? 0) + 1;
      else acked += 1;
    }
    const unexpected = [...deadLetters.entries()].filter(([, d]) => !KNOWN_CODES.has(d.code));
    const emptyReasons = [...deadLetters.values()].filter((d) => d.reason.trim() === '');
    const heapGrowthMb = Math.round((heapPeak - heapStart) / 1024 / 1024);
    recordFigures('fuzz_messages', {
      seed: SEED,
      inputs: MESSAGE_CASES,
      kinds,
      largest_body_bytes: largestBody,
      processed_ok: acked,
      dead_lettered_by_code: byCode,
      crashes: unexpected.length + schemaThrows.length,
      requeued: [...outcomes.values()].filter((o) => o.how === 'nack').length,
      heap_growth_mb: heapGrowthMb,
    });
    expect(schemaThrows).toEqual([]);
    expect(unexpected.slice(0, 5).map(([tag, d]) => `${tag}: ${d.code}: ${d.reason}`)).toEqual([]);
    expect(emptyReasons).toEqual([]);
    expect(outcomes.size).toBe(MESSAGE_CASES);
    expect([...outcomes.values()].every((o) => o.how === 'ack')).toBe(true);
    expect(acked).toBeGreaterThan(0);
    expect(Object.keys(byCode).length).toBeGreaterThan(1);
    expect(heapGrowthMb).toBeLessThan(HEAP_BUDGET_MB);
  }, 120000);

  it(`reads ${BUNDLE_CASES} generated hostile bundles into a request or a ConnectorError with a reason`, () => {
    const random = seededRandom(SEED + 1);
    const crashes: string[] = [];
    const byCode: Record<string, number> = {};
    let resolved = 0;
    let techniques = 0;
    for (let i = 0; i < BUNDLE_CASES; i++) {
      const input = fuzzBundle(random, i);
      // The daemon only ever passes a coverage that passed the message schema (an object with a
      // string type and id); the offline reader passes none. Keep to that contract.
      const cov = input.coverage as { type?: unknown; id?: unknown } | undefined;
      const coverage = cov && typeof cov === 'object' && !Array.isArray(cov) && typeof cov.type === 'string' && cov.type && typeof cov.id === 'string' && cov.id ? (cov as StixObject) : undefined;
      try {
        const request = resolveCoverageRequest(
          { objects: input.objects as StixObject[], ...(coverage ? { coverage } : {}), ...(typeof input.coveredId === 'string' ? { coveredId: input.coveredId } : {}) },
          { maxTechniques: MAX_TECHNIQUES },
        );
        resolved += 1;
        techniques += request.techniques.length;
        JSON.stringify(request); // what follows (engine, bundle builder) serialises it
      } catch (err) {
        if (err instanceof ConnectorError && err.message.trim() !== '' && KNOWN_CODES.has(err.code)) {
          byCode[err.code] = (byCode[err.code] ?? 0) + 1;
        } else {
          crashes.push(`${i}: ${(err as Error)?.name}: ${(err as Error)?.message}`);
        }
      }
      if (i % 500 === 0) assertUnpolluted();
    }
    recordFigures('fuzz_bundles', { seed: SEED + 1, inputs: BUNDLE_CASES, resolved, techniques_found: techniques, rejected_by_code: byCode, crashes: crashes.length });
    expect(crashes.slice(0, 5)).toEqual([]);
    expect(resolved).toBeGreaterThan(0);
  }, 60000);
});
