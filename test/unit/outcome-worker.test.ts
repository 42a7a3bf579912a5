import type { Delivery } from '../../src/adapters/amqp/broker';
import type { DeadLetterInfo } from '../../src/adapters/amqp/dead-letter';
import type { WorkApi } from '../../src/adapters/opencti/work-api';
import { createLogger } from '../../src/app/logger';
import { noopObserver } from '../../src/app/job-observer';
import { createPlatformBreaker } from '../../src/app/platform-breaker';
import { createWorker, type EnrichmentJob, type WorkerOptions } from '../../src/app/worker';
import { InvalidMessageError, PlatformAuthError, PlatformUnavailableError } from '../../src/errors';

const run = jest.fn() as jest.MockedFunction<EnrichmentJob>;

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

function delivery(content: Buffer, messageId?: string, lost: AbortSignal = new AbortController().signal, redelivered = false): FakeDelivery {
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
    redelivered,
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

function setup(overrides: Partial<WorkerOptions> = {}, workOverrides: Partial<WorkApi> = {}) {
  const deadLetters: DeadLetterInfo[] = [];
  const processed: Array<{ workId: string; message: string; inError: boolean }> = [];
  const work: WorkApi = {
    toReceived: async () => undefined,
    toProcessed: async (workId, message, inError) => void processed.push({ workId, message, inError }),
    addExpectations: async () => undefined,
    ping: async () => undefined,
    expected: async () => 0,
    ...workOverrides,
  } as WorkApi;
  const worker = createWorker({
    log: createLogger('silent'),
    observer: noopObserver,
    work,
    job: run,
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

const until = (predicate: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => (predicate() ? resolve() : void setTimeout(check, 2));
    check();
  });

describe('worker deadlines and head-of-line blocking', () => {
  it('aborts a job that outlives its deadline and counts it as a transient failure (JOB_TIMEOUT)', async () => {
    const signals: AbortSignal[] = [];
    run.mockImplementation((_m, ctx) => {
      signals.push(ctx.signal);
      return new Promise(() => undefined); // hangs, ignoring its signal
    });
    const { worker, deadLetters, processed } = setup({ concurrency: 1, jobTimeoutMs: 30, policy: { maxAttempts: 2, backoffBaseMs: 1, backoffMaxMs: 1 } });
    const d = delivery(body('w1'));
    const started = Date.now();
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(deadLetters).toEqual([expect.objectContaining({ code: 'JOB_TIMEOUT', attempts: 2, reason: expect.stringContaining('WORKER_JOB_TIMEOUT_MS') })]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(processed).toEqual([expect.objectContaining({ workId: 'w1', inError: true, message: expect.stringContaining('JOB_TIMEOUT') })]);
    await until(() => worker.inFlight === 0);
  });

  it('frees the slot while a failed message waits for its retry: the next message runs meanwhile', async () => {
    const order: string[] = [];
    let failedOnce = false;
    run.mockImplementation(async (message) => {
      const id = message.internal.work_id as string;
      if (id === 'slow' && !failedOnce) {
        failedOnce = true;
        order.push('slow failed');
        throw new PlatformUnavailableError('HTTP 503');
      }
      order.push(`${id} done`);
      return { outcome: 'pushed', note: 'ok' };
    });
    const { worker } = setup({ concurrency: 1, policy: { maxAttempts: 3, backoffBaseMs: 200, backoffMaxMs: 200 } });
    const a = delivery(body('slow'));
    const b = delivery(body('fast'));
    worker.handle(a);
    worker.handle(b);
    expect(await b.outcome).toBe('ack');
    expect(await a.outcome).toBe('ack');
    expect(order).toEqual(['slow failed', 'fast done', 'slow done']);
  });

  it('reports a stall only when work is held and nothing progressed for longer than the deadline', async () => {
    let now = 0;
    run.mockImplementation(() => new Promise(() => undefined));
    const { worker } = setup({ concurrency: 1, jobTimeoutMs: 60000, clock: () => new Date(now) });
    expect(worker.health().stalled).toBe(false);
    worker.handle(delivery(body('w1')));
    await until(() => run.mock.calls.length === 1);
    now = 30000;
    expect(worker.health()).toMatchObject({ running: 1, stalled: false });
    now = 60001;
    expect(worker.health().stalled).toBe(true);
    await worker.drain(1);
  });
});

describe('worker and the platform circuit breaker', () => {
  function breakerFor(log = createLogger('silent')) {
    let probeOk = false;
    const breaker = createPlatformBreaker({
      failureThreshold: 3,
      probe: async () => {
        if (!probeOk) throw new PlatformUnavailableError('still down');
      },
      probeBackoff: { backoffBaseMs: 20, backoffMaxMs: 40 },
      log,
    });
    return { breaker, recover: () => (probeOk = true) };
  }

  it('opens on a rejected token: pauses consumption, requeues held messages without spending attempts, resumes on recovery', async () => {
    const { breaker, recover } = breakerFor();
    const flow = { pause: jest.fn(), resume: jest.fn() };
    let tokenOk = false;
    run.mockImplementation(async () => {
      if (!tokenOk) {
        const err = new PlatformAuthError('AUTH_REQUIRED');
        breaker.settle(err, false); // what the GraphQL client does before throwing
        throw err;
      }
      return { outcome: 'pushed', note: 'ok' };
    });
    const { worker, deadLetters } = setup({ concurrency: 1, breaker, flow, policy: { maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1 } });
    const first = delivery(body('w1'));
    const queued = delivery(body('w2'));
    worker.handle(first);
    worker.handle(queued);
    expect(await first.outcome).toBe('nack');
    expect(await queued.outcome).toBe('nack');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', cause: 'auth', code: 'PLATFORM_AUTH' });
    expect(flow.pause).toHaveBeenCalledTimes(1);
    const late = delivery(body('w3'));
    worker.handle(late);
    expect(await late.outcome).toBe('nack');
    expect(worker.health().paused).toBe(true);

    tokenOk = true;
    recover();
    await until(() => breaker.state === 'closed');
    expect(flow.resume).toHaveBeenCalledTimes(1);
    // maxAttempts 1: had the 401 counted, this copy would be dead-lettered at once.
    const again = delivery(body('w1'), undefined, undefined, true);
    worker.handle(again);
    expect(await again.outcome).toBe('ack');
    expect(deadLetters).toEqual([]);
    breaker.close();
  });

  it('refunds the attempts an outage cost, so a message does not reach the DLQ because of it', async () => {
    const { breaker, recover } = breakerFor();
    let down = true;
    run.mockImplementation(async () => {
      if (down) {
        const err = new PlatformUnavailableError('ECONNREFUSED');
        breaker.settle(err, false);
        throw err;
      }
      return { outcome: 'pushed', note: 'ok' };
    });
    const { worker, deadLetters } = setup({ concurrency: 1, breaker, flow: { pause: () => undefined, resume: () => undefined }, policy: { maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 1 } });
    const d = delivery(body('w1'));
    worker.handle(d);
    // attempts 1 and 2 are counted, the 3rd failure opens the circuit: requeued, and 1+2 refunded.
    expect(await d.outcome).toBe('nack');
    expect(run).toHaveBeenCalledTimes(3);
    down = false;
    recover();
    await until(() => breaker.state === 'closed');
    down = true;
    // Back with a full budget: two failures are retried (not dead-lettered) before the third trips again.
    const copy = delivery(body('w1'), undefined, undefined, true);
    worker.handle(copy);
    expect(await copy.outcome).toBe('nack');
    expect(run).toHaveBeenCalledTimes(6);
    expect(deadLetters).toEqual([]);
    breaker.close();
  });

  it('closes the works of dead letters once the platform answers again', async () => {
    const { breaker, recover } = breakerFor();
    let platformUp = false;
    const closed: string[] = [];
    const { worker, deadLetters } = setup(
      { concurrency: 1, breaker, flow: { pause: () => undefined, resume: () => undefined } },
      {
        toProcessed: async (workId: string) => {
          if (!platformUp) {
            const err = new PlatformUnavailableError('ECONNREFUSED');
            breaker.settle(err, false);
            breaker.settle(err, false);
            breaker.settle(err, false);
            throw err;
          }
          closed.push(workId);
        },
      },
    );
    const invalid = JSON.parse(body('w-bad').toString()) as { event: Record<string, unknown> };
    invalid.event.entity_type = '';
    const d = delivery(Buffer.from(JSON.stringify(invalid)));
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    expect(deadLetters).toHaveLength(1);
    expect(worker.health().pendingWorkClosures).toBe(1);
    platformUp = true;
    recover();
    await until(() => closed.length === 1);
    expect(closed).toEqual(['w-bad']);
    expect(worker.health().pendingWorkClosures).toBe(0);
    breaker.close();
  });
});

describe('one dead letter per message', () => {
  it('acks a redelivered copy of a message whose dead letter was confirmed, without a second one', async () => {
    run.mockRejectedValue(new InvalidMessageError('unknown entity type'));
    const { worker, deadLetters } = setup({ concurrency: 1 });
    const d = delivery(body('w1'));
    worker.handle(d);
    expect(await d.outcome).toBe('ack');
    // The broker crashed before our ack reached it: the same message comes back, redelivered.
    const copy = delivery(body('w1'), undefined, undefined, true);
    worker.handle(copy);
    expect(await copy.outcome).toBe('ack');
    expect(deadLetters).toHaveLength(1);
    // A replay by an operator is a fresh publish (not redelivered): processed again.
    const replay = delivery(body('w1'), undefined, undefined, false);
    worker.handle(replay);
    expect(await replay.outcome).toBe('ack');
    expect(deadLetters).toHaveLength(2);
  });
});

describe('stopping while a redelivered copy is being looked up', () => {
  it('requeues the copy without starting its job, and the drain ends', async () => {
    run.mockRejectedValue(new InvalidMessageError('poison'));
    let publishes = 0;
    let lookedUp!: () => void;
    const looking = new Promise<void>((resolve) => (lookedUp = resolve));
    const { worker } = setup({
      concurrency: 1,
      deadLetter: async () => {
        publishes += 1;
        // The link broke before the broker confirmed: whether the dead letter landed is unknown.
        throw Object.assign(new Error('channel closed'), { uncertain: true });
      },
      deadLetterHas: async () => {
        lookedUp();
        await new Promise((r) => setTimeout(r, 100));
        return false;
      },
    });
    const first = delivery(body('w1'));
    worker.handle(first);
    expect(await first.outcome).toBe('nack');
    const copy = delivery(body('w1'), undefined, undefined, true);
    worker.handle(copy);
    await looking;
    await worker.drain(1);
    expect(await copy.outcome).toBe('nack');
    await until(() => worker.inFlight === 0);
    expect(run).toHaveBeenCalledTimes(1);
    expect(publishes).toBe(1);
  });
});
