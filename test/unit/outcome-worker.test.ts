import type { Delivery } from '../../src/adapters/amqp/broker';
import type { DeadLetterInfo } from '../../src/adapters/amqp/dead-letter';
import type { WorkApi } from '../../src/adapters/opencti/work-api';
import { runEnrichment } from '../../src/app/enrichment-job';
import { createLogger } from '../../src/app/logger';
import { noopObserver } from '../../src/app/job-observer';
import { createWorker, type WorkerOptions } from '../../src/app/worker';
import { PlatformUnavailableError } from '../../src/errors';

jest.mock('../../src/app/enrichment-job', () => ({ runEnrichment: jest.fn() }));
const run = runEnrichment as jest.MockedFunction<typeof runEnrichment>;

/** The worker's settlement rules with stub ports: exactly one ack/nack, nothing lost. */

const body = (workId = 'work_1'): Buffer =>
  Buffer.from(
    JSON.stringify({
      internal: { work_id: workId, applicant_id: null, draft_id: null, trigger: 'create', mode: 'auto' },
      event: { entity_id: 'security-coverage--1', entity_type: 'Security-Coverage', stix_entity: JSON.stringify({ type: 'security-coverage', id: 'security-coverage--1' }), stix_objects: null },
    }),
  );

interface FakeDelivery extends Delivery {
  outcome: Promise<'ack' | 'nack'>;
  settleCalls: string[];
}

function delivery(content: Buffer, messageId?: string, lost: AbortSignal = new AbortController().signal): FakeDelivery {
  let resolve!: (v: 'ack' | 'nack') => void;
  const outcome = new Promise<'ack' | 'nack'>((r) => (resolve = r));
  const settleCalls: string[] = [];
  let settled = false;
  const settle = (what: 'ack' | 'nack'): void => {
    settleCalls.push(what);
    if (settled) return;
    settled = true;
    resolve(what);
  };
  return {
    content,
    ...(messageId ? { messageId } : {}),
    headers: {},
    properties: { headers: {} } as never,
    redelivered: false,
    deliveryTag: 1,
    ack: () => settle('ack'),
    nackRequeue: () => settle('nack'),
    get settled() {
      return settled;
    },
    lost,
    outcome,
    settleCalls,
  };
}

function setup(overrides: Partial<WorkerOptions> = {}) {
  const deadLetters: DeadLetterInfo[] = [];
  const processed: Array<{ workId: string; message: string; inError: boolean }> = [];
  const work: WorkApi = {
    toReceived: async () => undefined,
    toProcessed: async (workId, message, inError) => void processed.push({ workId, message, inError }),
    addExpectations: async () => undefined,
    ping: async () => undefined,
    expected: async () => 0,
  };
  const worker = createWorker({
    log: createLogger('silent'),
    observer: noopObserver,
    work,
    job: {} as never,
    deadLetter: async (_d, info) => void deadLetters.push(info),
    listenQueue: 'listen_x',
    concurrency: 2,
    maxMessageBytes: 1024 * 1024,
    policy: { maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 2 },
    ...overrides,
  });
  return { worker, deadLetters, processed };
}

beforeEach(() => run.mockReset());

describe('worker settlement', () => {
  it('acks once after the work is closed on success', async () => {
    run.mockResolvedValue({ outcome: 'pushed', note: 'Pushed 3 object(s)' });
    const { worker, processed } = setup();
    const d = delivery(body());
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    expect(processed).toEqual([{ workId: 'work_1', message: 'Pushed 3 object(s)', inError: false }]);
    expect(d.settleCalls).toEqual(['ack']);
  });

  it('requeues (never drops) a message whose dead-letter publish fails', async () => {
    const { worker } = setup({
      deadLetter: async () => {
        throw new Error('broker did not confirm');
      },
    });
    const d = delivery(Buffer.from('not json'));
    worker.handle(d);
    expect(await d.outcome).toBe('nack');
    expect(d.settleCalls).toEqual(['nack']);
  });

  it('counts attempts per message id across redeliveries', async () => {
    run.mockRejectedValue(new PlatformUnavailableError('HTTP 503'));
    const { worker, deadLetters } = setup({ policy: { maxAttempts: 2, backoffBaseMs: 60000, backoffMaxMs: 60000 } });
    // First copy fails once and waits a long backoff (its channel may be gone meanwhile)…
    const first = delivery(body(), 'm-1');
    worker.handle(first);
    await new Promise<void>((resolve) => {
      const check = (): void => (run.mock.calls.length >= 1 ? resolve() : void setImmediate(check));
      check();
    });
    // …the broker redelivers it: this copy's failure is attempt 2 of 2, so it is dead-lettered.
    const redelivered = delivery(body(), 'm-1');
    worker.handle(redelivered);
    expect(await redelivered.outcome).toBe('ack');
    expect(deadLetters).toEqual([expect.objectContaining({ code: 'PLATFORM_UNAVAILABLE', attempts: 2, workId: 'work_1', originalQueue: 'listen_x' })]);
    await worker.drain(1000);
    expect(await first.outcome).toBe('nack');
  });

  it('retries in place up to max attempts, then dead-letters with the attempt count', async () => {
    run.mockRejectedValue(new PlatformUnavailableError('HTTP 503'));
    const { worker, deadLetters, processed } = setup({ policy: { maxAttempts: 4, backoffBaseMs: 1, backoffMaxMs: 1 } });
    const d = delivery(body(), 'same');
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    expect(deadLetters[0]).toMatchObject({ attempts: 4, reason: 'gave up after 4 attempt(s): HTTP 503' });
    expect(deadLetters[0].lastFailure.getTime()).toBeGreaterThanOrEqual(deadLetters[0].firstFailure.getTime());
    expect(run).toHaveBeenCalledTimes(4);
    expect(processed).toEqual([{ workId: 'work_1', message: expect.stringContaining('PLATFORM_UNAVAILABLE'), inError: true }]);
  });

  it('dead-letters at once with MESSAGE_INVALID and closes the work in error', async () => {
    const { worker, deadLetters, processed } = setup();
    const raw = JSON.parse(body().toString()) as { event: Record<string, unknown> };
    raw.event.stix_entity = 7;
    const d = delivery(Buffer.from(JSON.stringify(raw)));
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    expect(deadLetters).toEqual([expect.objectContaining({ code: 'MESSAGE_INVALID', attempts: 1, workId: 'work_1', coverageId: 'security-coverage--1' })]);
    expect(processed[0]).toMatchObject({ workId: 'work_1', inError: true });
    expect(run).not.toHaveBeenCalled();
  });

  it('on drain requeues queued deliveries and refuses new ones', async () => {
    let release!: () => void;
    run.mockImplementation(() => new Promise((resolve) => (release = () => resolve({ outcome: 'pushed', note: 'ok' }))));
    const { worker } = setup({ concurrency: 1 });
    const running = delivery(body('w1'));
    const queued = delivery(body('w2'));
    worker.handle(running);
    worker.handle(queued);
    const drained = worker.drain(5000);
    expect(await queued.outcome).toBe('nack');
    const late = delivery(body('w3'));
    worker.handle(late);
    expect(await late.outcome).toBe('nack');
    release();
    await drained;
    expect(await running.outcome).toBe('ack');
  });

  it('stops retrying a copy whose channel was lost, without settling it (the broker redelivers it)', async () => {
    run.mockRejectedValue(new PlatformUnavailableError('HTTP 503'));
    const { worker, deadLetters } = setup({ policy: { maxAttempts: 5, backoffBaseMs: 60000, backoffMaxMs: 60000 } });
    const channel = new AbortController();
    const d = delivery(body(), 'm', channel.signal);
    worker.handle(d);
    await new Promise<void>((resolve) => {
      const check = (): void => (run.mock.calls.length >= 1 ? resolve() : void setImmediate(check));
      check();
    });
    channel.abort();
    await new Promise<void>((resolve) => {
      const check = (): void => (worker.inFlight === 0 ? resolve() : void setImmediate(check));
      check();
    });
    expect(d.settleCalls).toEqual([]);
    expect(deadLetters).toEqual([]);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('requeues a job still running when the grace period ends', async () => {
    run.mockImplementation(() => new Promise(() => undefined));
    const { worker } = setup();
    const d = delivery(body());
    worker.handle(d);
    await worker.drain(20);
    expect(await d.outcome).toBe('nack');
  });
});
