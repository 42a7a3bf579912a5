import { EnrichmentMessageSchema, entityIdOf, workIdOf, type EnrichmentMessage } from '../../schemas/message';
import type { Delivery } from '../adapters/amqp/broker';
import { DEAD_LETTER_KEY_HEADER, messageKey, priorFailures, type DeadLetterPublisher } from '../adapters/amqp/dead-letter';
import { workIdTime } from './metrics';
import type { WorkApi } from '../adapters/opencti/work-api';
import { InvalidMessageError, JobTimeoutError, LimitExceededError, errorMessageOf } from '../errors';
import type { JobContext, JobResult } from './enrichment-job';
import type { JobObserver } from './job-observer';
import type { Logger } from './logger';
import { decide, platformFailureOf, type RetryPolicy } from './outcome';
import { newPushProgress, type PushProgress } from './result-pusher';
import { addBounded, setBounded } from '../domain/bounded-map';

/**
 * Takes deliveries from the listen queue and guarantees, for each one, exactly one ack or nack and
 * nothing lost (docs/processing-flow.md, docs/reliability.md):
 *   success            → toProcessed(note)                      → ack
 *   transient failure  → back in the queue of this worker after a capped, jittered backoff (the slot is
 *                        free meanwhile: no head-of-line blocking), up to max_attempts
 *   permanent / gave up→ toProcessed(reason, inError) → DLQ publish confirmed → ack
 *   DLQ publish failed → nack with requeue (a plain nack would drop it: the queue has no DLX)
 *   platform circuit open (outage, token rejected) → consumption paused, every message held here
 *                        requeued, the platform-wide failures they met refunded: nothing dead-lettered
 * Each attempt has a deadline (`jobTimeoutMs`); a job that does not end in time is aborted and counts
 * as a transient failure. Attempts are counted per message id (or body hash) across redeliveries to
 * this process.
 */

/** What the worker needs from the platform circuit breaker (src/app/platform-breaker.ts). */
export interface BreakerView {
  readonly state: 'closed' | 'open' | 'half-open';
  onChange(listener: (snapshot: { state: 'closed' | 'open' | 'half-open' }) => void): () => void;
}

/** Consumption control (the broker's consumer): paused while the platform circuit is open. */
export interface FlowControl {
  pause(): Promise<void> | void;
  resume(): Promise<void> | void;
}

/** One attempt of the work a message asks for; aborts when `ctx.signal` fires. */
export type EnrichmentJob = (message: EnrichmentMessage, ctx: JobContext) => Promise<JobResult>;

export interface WorkerOptions {
  log: Logger;
  observer: JobObserver;
  work: WorkApi;
  /** What a delivery runs: runEnrichment bound to its dependencies by the composition root. */
  job: EnrichmentJob;
  deadLetter: DeadLetterPublisher;
  /** Whether the DLQ holds a dead letter with this header value (see Broker.deadLetterHas). */
  deadLetterHas?: (header: string, value: string) => Promise<boolean>;
  listenQueue: string;
  concurrency: number;
  maxMessageBytes: number;
  policy: RetryPolicy;
  clock?: () => Date;
  /** Deadline of one attempt of a job (default 5 minutes). */
  jobTimeoutMs?: number;
  breaker?: BreakerView;
  flow?: FlowControl;
  /** Called after each enrichment that ran (pushed or unchanged): the scheduler plans the next run from it. */
  onRun?: (message: EnrichmentMessage, ranAt: Date) => void;
}

export interface WorkerHealth {
  /** Deliveries held: running, waiting for a slot, waiting for a retry. */
  running: number;
  waiting: number;
  retrying: number;
  /** Consumption paused because the platform circuit is open. */
  paused: boolean;
  /** Last time a job started or ended an attempt, or a delivery was settled. */
  lastProgressAt: Date;
  /** Work is held (running or waiting for a slot) and nothing progressed for longer than the job deadline. */
  stalled: boolean;
  /** Works whose closing call failed (platform down), closed when the platform answers again. */
  pendingWorkClosures: number;
}

export interface Worker {
  /** Hands a delivery to the worker (never throws; settles it exactly once). */
  handle(delivery: Delivery): void;
  readonly inFlight: number;
  health(): WorkerHealth;
  /**
   * Stops taking new work: queued deliveries and those waiting for a retry are requeued; running jobs
   * get `graceMs` to finish, then are aborted and requeued. Idempotent.
   */
  drain(graceMs: number): Promise<void>;
}

interface AttemptRecord {
  attempts: number;
  /** Attempts that failed on a platform-wide condition; refunded when the circuit opens. */
  platformFailures: number;
  /** Times those were refunded: capped, so a message whose own call keeps failing still ends in the DLQ. */
  refunds: number;
  firstFailure?: Date;
  /** Attempts made before this message was dead-lettered and replayed (`x-attempts`). */
  prior?: number;
}

/** A delivery the worker holds, with what survives between its attempts. */
interface Entry {
  delivery: Delivery;
  key: string;
  rec: AttemptRecord;
  job?: {
    message: EnrichmentMessage;
    workId?: string;
    ids: { workId?: string; coverageId?: string };
    log: Logger;
    progress: PushProgress;
    /** The work's toReceived, once sent (shared by the timer and the job's first write). */
    receiving?: Promise<void>;
    /** First delivery by the broker and no replayed dead letter (see JobContext.firstDelivery). */
    firstDelivery: boolean;
  };
}

/** Remembered attempts per message; bounded so a flood of distinct poison messages cannot grow it forever. */
const MAX_TRACKED = 10000;
/** Refunds of platform-wide failures per message (see AttemptRecord.refunds). */
const MAX_REFUNDS = 3;
const DEFAULT_JOB_TIMEOUT_MS = 5 * 60 * 1000;
/** Longest look into the DLQ for an uncertain dead letter; past it, publishing again beats waiting. */
const DLQ_LOOK_TIMEOUT_MS = 15000;
/**
 * A run that neither writes nor ends within this long marks its work received ("in progress" in
 * OpenCTI). A run that ends sooner without writing (the re-trigger of our own write, typically) goes
 * from waiting to complete with its closing call alone.
 */
const RECEIVED_AFTER_MS = 2000;
const RECEIVED_MESSAGE = 'Security coverage assessment started';

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function keyOf(delivery: Delivery): string {
  return messageKey(delivery.messageId, delivery.content);
}

export function createWorker(options: WorkerOptions): Worker {
  const { log, observer, work, policy } = options;
  const clock = options.clock ?? (() => new Date());
  const jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const attempts = new Map<string, AttemptRecord>();
  /** Keys whose dead letter the broker confirmed: a redelivered copy (ack lost in a broker crash) is acked, not dead-lettered twice. */
  const deadLettered = new Set<string>();
  /** Keys whose dead-letter publish was sent but not confirmed (link broken): the DLQ is checked before publishing again. */
  const uncertain = new Set<string>();
  /** Dead letters being published right now: a redelivered copy waits for the outcome before deciding. */
  const publishing = new Map<string, Promise<void>>();
  const waiting: Entry[] = [];
  /** Entries waiting for their retry delay; `cancel` clears the timer and the listener. */
  const retrying = new Map<Entry, { cancel: () => void }>();
  const running = new Set<Promise<void>>();
  /** Entries of running jobs, so a drain that runs out of time can requeue them. */
  const active = new Set<Entry>();
  /** Works to close once the platform answers again (closing them failed during an outage). */
  const pendingClosures = new Map<string, { message: string; inError: boolean }>();
  let flushing = false;
  /** Aborted when the grace period is over: running jobs give up. */
  const shutdown = new AbortController();
  /** Aborted when the platform circuit opens: running jobs give up and are requeued; replaced on close. */
  let pauseCtl = new AbortController();
  let paused = options.breaker !== undefined && options.breaker.state !== 'closed';
  let stopping = false;
  let draining: Promise<void> | undefined;
  let lastProgress = clock();

  const progressed = (): void => {
    lastProgress = clock();
  };

  function record(key: string): AttemptRecord {
    let r = attempts.get(key);
    if (!r) {
      r = setBounded(attempts, key, { attempts: 0, platformFailures: 0, refunds: 0 }, MAX_TRACKED);
    }
    return r;
  }

  async function closeWork(workId: string | undefined, message: string, inError: boolean, jobLog: Logger): Promise<void> {
    if (!workId) return;
    try {
      await work.toProcessed(workId, message, inError);
      pendingClosures.delete(workId);
    } catch (err) {
      if (platformFailureOf(err) && pendingClosures.size < MAX_TRACKED) {
        // The DLQ keeps the message; the work is closed when the platform answers again.
        pendingClosures.set(workId, { message, inError });
        jobLog.warn({ err: { message: errorMessageOf(err) } }, 'could not close the work; it will be closed when OpenCTI answers again');
      } else {
        jobLog.warn({ err: { message: errorMessageOf(err) } }, 'could not close the work');
      }
    }
  }

  async function flushClosures(): Promise<void> {
    if (flushing || pendingClosures.size === 0) return;
    flushing = true;
    try {
      for (const [workId, closing] of [...pendingClosures]) {
        if (paused) break;
        await closeWork(workId, closing.message, closing.inError, log.child({ work_id: workId }));
        if (pendingClosures.has(workId)) break; // still failing: wait for the next recovery
      }
    } finally {
      flushing = false;
    }
  }

  async function deadLetter(entry: Entry, code: string, reason: string, ids: { workId?: string; coverageId?: string }, jobLog: Logger): Promise<void> {
    const { delivery, rec, key } = entry;
    const now = clock();
    await receivedSettled(entry.job);
    await closeWork(ids.workId, `Failed (${code}): ${reason}`, true, jobLog);
    let published!: () => void;
    publishing.set(key, new Promise<void>((resolve) => (published = resolve)));
    try {
      await options.deadLetter(delivery, {
        code,
        reason,
        attempts: Math.max(1, rec.attempts) + (rec.prior ?? 0),
        firstFailure: rec.firstFailure ?? now,
        lastFailure: now,
        originalQueue: options.listenQueue,
        key,
        ...ids,
      });
    } catch (err) {
      if ((err as { uncertain?: boolean }).uncertain) addBounded(uncertain, key, MAX_TRACKED);
      jobLog.error({ err: { message: errorMessageOf(err) }, code }, 'dead-letter publish failed; requeueing the message');
      delivery.nackRequeue();
      return;
    } finally {
      publishing.delete(key);
      published();
    }
    uncertain.delete(key);
    addBounded(deadLettered, key, MAX_TRACKED);
    attempts.delete(key);
    delivery.ack();
    progressed();
    observer.deadLettered(code);
    jobLog.warn({ code, reason, attempts: rec.attempts + (rec.prior ?? 0) }, 'message dead-lettered');
  }

  function parse(delivery: Delivery): { message?: EnrichmentMessage; raw?: unknown; error?: Error } {
    if (delivery.content.length > options.maxMessageBytes) {
      return { error: new LimitExceededError(`message of ${delivery.content.length} bytes exceeds LIMITS_MAX_MESSAGE_BYTES (${options.maxMessageBytes})`) };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(delivery.content.toString('utf8'));
    } catch {
      return { error: new InvalidMessageError('message body is not valid JSON') };
    }
    const parsed = EnrichmentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return { raw, error: new InvalidMessageError(`message does not match the enrichment message format: ${issues}`) };
    }
    return { raw, message: parsed.data };
  }

  /** First look at a delivery: lag, attempt record, parse. Returns false when it was settled here. */
  async function prepare(entry: Entry): Promise<boolean> {
    const { delivery, key, rec } = entry;
    observer.received();
    const published = delivery.properties.timestamp as number | undefined;
    if (typeof published === 'number' && published > 0) {
      // AMQP timestamps are seconds; some publishers put milliseconds.
      const ms = published > 1e11 ? published : published * 1000;
      observer.lag(Math.max(0, (clock().getTime() - ms) / 1000));
    }
    // The copy on the lost channel may be publishing this message's dead letter right now.
    if (delivery.redelivered) await publishing.get(key);
    if (delivery.redelivered && uncertain.has(key) && options.deadLetterHas) {
      // Its dead-letter publish was cut off before the confirm: look before publishing it again.
      uncertain.delete(key);
      try {
        if (await withTimeout(options.deadLetterHas(DEAD_LETTER_KEY_HEADER, key), DLQ_LOOK_TIMEOUT_MS)) addBounded(deadLettered, key, MAX_TRACKED);
      } catch (err) {
        log.warn({ err: { message: errorMessageOf(err) } }, 'could not check the dead-letter queue; the message may be dead-lettered twice');
      }
    }
    if (delivery.redelivered && deadLettered.has(key)) {
      // Its dead letter is in the DLQ; the ack was lost with the connection. One DLQ entry per message.
      delivery.ack();
      progressed();
      log.info({ delivery_tag: delivery.deliveryTag }, 'redelivered copy of a message already dead-lettered; acknowledged without a second dead letter');
      return false;
    }
    // A replayed dead letter carries x-attempts / x-first-failure. The count continues from there
    // (what the DLQ shows next time); the retry budget starts afresh.
    if (rec.prior === undefined) {
      const prior = priorFailures(delivery.headers);
      rec.prior = prior.attempts;
      if (prior.firstFailure) rec.firstFailure ??= prior.firstFailure;
    }
    const { message, raw, error } = parse(delivery);
    const workId = message?.internal.work_id ?? workIdOf(raw) ?? undefined;
    const coverageId = message?.event.entity_id ?? entityIdOf(raw);
    // Ids of an invalid message are logged only when they are safe to print (validated by the schema otherwise).
    const safe = (v: string | undefined): string | null => (v && /^[A-Za-z0-9._:@-]{1,200}$/.test(v) ? v : v ? '(invalid)' : null);
    const jobLog = log.child({ work_id: safe(workId), coverage_id: safe(coverageId), delivery_tag: delivery.deliveryTag });
    const ids = { ...(workId && safe(workId) === workId ? { workId } : {}), ...(coverageId && safe(coverageId) === coverageId ? { coverageId } : {}) };
    // The platform sets no AMQP timestamp; its work id carries the creation time.
    if (!(typeof published === 'number' && published > 0) && workId) {
      const createdAt = workIdTime(workId);
      if (createdAt) observer.lag(Math.max(0, (clock().getTime() - createdAt.getTime()) / 1000));
    }
    if (error || !message) {
      rec.attempts += 1;
      rec.firstFailure ??= clock();
      const code = (error as { code?: string }).code ?? 'MESSAGE_INVALID';
      observer.failed(code, false);
      await deadLetter(entry, code, errorMessageOf(error), ids, jobLog);
      return false;
    }
    const firstDelivery = !delivery.redelivered && !(rec.prior !== undefined && rec.prior > 0);
    entry.job = { message, ...(ids.workId ? { workId: ids.workId } : {}), ids, log: jobLog, progress: newPushProgress(), firstDelivery };
    return true;
  }

  type AttemptEnd = { result: JobResult } | { failure: unknown; cause: 'failed' | 'timeout' | 'paused' | 'shutdown' | 'lost' };

  /** One attempt, bounded by the job deadline; ends as soon as the job is aborted, whatever the job does. */
  async function attempt(entry: Entry): Promise<AttemptEnd> {
    const job = entry.job as NonNullable<Entry['job']>;
    const { delivery } = entry;
    const ctl = new AbortController();
    let cause: 'timeout' | 'paused' | 'shutdown' | 'lost' | undefined;
    const stopWith = (why: typeof cause) => (): void => {
      cause ??= why;
      ctl.abort();
    };
    // Settles as soon as the attempt is aborted, also when that happened before it started.
    const aborted = new Promise<never>((_resolve, reject) => {
      const fail = (): void => reject(new JobTimeoutError(`job aborted (${cause ?? 'aborted'})`));
      if (ctl.signal.aborted) fail();
      else ctl.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => undefined);
    // Not AbortSignal.any: on Node 20 it keeps every derived signal reachable from the long-lived
    // source (~180 B leaked per message in bench B7). These listeners are removed per attempt.
    const links: Array<[AbortSignal, () => void]> = [
      [shutdown.signal, stopWith('shutdown')],
      [delivery.lost, stopWith('lost')],
      [pauseCtl.signal, stopWith('paused')],
    ];
    for (const [signal, fn] of links) {
      if (signal.aborted) fn();
      else signal.addEventListener('abort', fn, { once: true });
    }
    // Stopped, paused or lost before it started (e.g. while a redelivered copy was being looked up): do nothing.
    if (cause) {
      for (const [signal, fn] of links) signal.removeEventListener('abort', fn);
      return { failure: new JobTimeoutError(`job not started (${cause})`), cause };
    }
    const timer = setTimeout(stopWith('timeout'), jobTimeoutMs);
    const received = (): Promise<void> => markReceived(job);
    const receivedBy = (write: (message: string) => Promise<void>): Promise<boolean> => markReceivedBy(job, write);
    // A slow run shows as in progress; the promise is kept, so a failure surfaces at the first write.
    const receivedTimer = setTimeout(() => void received().catch(() => undefined), RECEIVED_AFTER_MS);
    const run = (async (): Promise<JobResult> => {
      const result = await options.job(job.message, { log: job.log, signal: ctl.signal, progress: job.progress, firstDelivery: job.firstDelivery, received, receivedBy });
      // Abandoned meanwhile (deadline, pause, shutdown): another attempt or replica owns the work now.
      if (ctl.signal.aborted) throw new JobTimeoutError('job aborted before closing its work');
      clearTimeout(receivedTimer);
      if (job.workId) {
        await receivedSettled(job);
        await work.toProcessed(job.workId, result.note, result.inError === true);
      }
      return result;
    })();
    run.catch(() => undefined);
    progressed();
    try {
      return { result: await Promise.race([run, aborted]) };
    } catch (err) {
      if (!cause) return { failure: err, cause: 'failed' };
      if (cause === 'timeout') {
        return { failure: new JobTimeoutError(`the job did not end within ${jobTimeoutMs} ms (WORKER_JOB_TIMEOUT_MS); aborted`, { cause: err }), cause };
      }
      return { failure: err, cause };
    } finally {
      clearTimeout(timer);
      clearTimeout(receivedTimer);
      for (const [signal, fn] of links) signal.removeEventListener('abort', fn);
      progressed();
    }
  }

  /** `sending` becomes the delivery's toReceived; a failed one is sent again by the next caller. */
  function claimReceiving(job: NonNullable<Entry['job']>, sending: Promise<void>): Promise<void> {
    job.receiving = sending.catch((err: unknown) => {
      job.receiving = undefined;
      throw err;
    });
    return job.receiving;
  }

  /** toReceived once per delivery. */
  function markReceived(job: NonNullable<Entry['job']>): Promise<void> {
    if (!job.workId) return Promise.resolve();
    return job.receiving ?? claimReceiving(job, work.toReceived(job.workId, RECEIVED_MESSAGE));
  }

  /**
   * toReceived carried by the run's first write (`write(message)`): true when `write` ran; false when
   * the work was already marked (or is being marked: awaited), and the caller writes on its own.
   */
  async function markReceivedBy(job: NonNullable<Entry['job']>, write: (message: string) => Promise<void>): Promise<boolean> {
    if (!job.workId || job.receiving) {
      await markReceived(job);
      return false;
    }
    await claimReceiving(job, write(RECEIVED_MESSAGE));
    return true;
  }

  /** A toReceived still in flight lands before the work is closed (it would reopen a complete work). */
  async function receivedSettled(job: Entry['job']): Promise<void> {
    await job?.receiving?.catch(() => undefined);
  }

  /** Back into this worker's queue after `delayMs`; the slot is free meanwhile. */
  function retryLater(entry: Entry, delayMs: number): void {
    const lost = entry.delivery.lost;
    const cancel = (): void => {
      clearTimeout(timer);
      lost.removeEventListener('abort', cancel);
      retrying.delete(entry);
    };
    // Channel gone while waiting: the broker redelivers this message; forget this copy.
    lost.addEventListener('abort', cancel, { once: true });
    const timer = setTimeout(() => {
      cancel();
      if (stopping || paused) {
        if (!entry.delivery.settled && !lost.aborted) entry.delivery.nackRequeue();
        return;
      }
      waiting.push(entry);
      pump();
    }, delayMs);
    retrying.set(entry, { cancel });
  }

  async function runEntry(entry: Entry): Promise<void> {
    if (!entry.job && !(await prepare(entry))) return;
    const job = entry.job as NonNullable<Entry['job']>;
    const { delivery, rec, key } = entry;
    const end = await attempt(entry);
    if ('result' in end) {
      const { result } = end;
      delivery.ack();
      attempts.delete(key);
      observer.succeeded(result.outcome);
      job.log.info({ outcome: result.outcome, note: result.note, ...(result.written ?? {}) }, 'enrichment done');
      // The scheduler plans the next run of this coverage from this one (docs/scheduling.md).
      if (result.outcome !== 'skipped') {
        try {
          options.onRun?.(job.message, clock());
        } catch (err) {
          job.log.warn({ err: { message: errorMessageOf(err) } }, 'could not tell the scheduler about this run');
        }
      }
      if (pendingClosures.size > 0) void flushClosures();
      return;
    }
    const { failure, cause } = end;
    if (cause === 'lost' || delivery.lost.aborted) {
      job.log.warn('channel lost during the job; the broker redelivers the message');
      return;
    }
    if (cause === 'shutdown' || shutdown.signal.aborted) {
      // Stopping mid-job: give the message back untouched; the next consumer redoes it (idempotent).
      if (!delivery.settled) delivery.nackRequeue();
      return;
    }
    const platformWide = platformFailureOf(failure);
    if (cause === 'paused' || (paused && platformWide)) {
      // The platform as a whole is unavailable: not this message's fault, no attempt spent.
      if (!delivery.settled) delivery.nackRequeue();
      job.log.info({ code: (failure as { code?: string })?.code ?? null }, 'platform circuit open: message requeued without spending an attempt');
      return;
    }
    rec.attempts += 1;
    if (platformWide) rec.platformFailures += 1;
    rec.firstFailure ??= clock();
    const decision = decide(failure, rec.attempts, policy);
    if (decision.kind === 'retry') {
      observer.failed(decision.code, true);
      job.log.warn({ code: decision.code, reason: decision.reason, attempt: rec.attempts, delay_ms: decision.delayMs }, 'attempt failed; retrying');
      if (stopping) {
        delivery.nackRequeue();
        return;
      }
      retryLater(entry, decision.delayMs);
      return;
    }
    if (decision.kind === 'deadLetter') {
      observer.failed(decision.code, false);
      if (decision.code === 'UNEXPECTED' || !(failure as { code?: string })?.code) {
        job.log.error({ err: failure }, 'unexpected failure');
      }
      await deadLetter(entry, decision.code, decision.reason, job.ids, job.log);
    }
  }

  function pump(): void {
    while (!stopping && !paused && running.size < options.concurrency && waiting.length > 0) {
      const entry = waiting.shift() as Entry;
      if (entry.delivery.settled || entry.delivery.lost.aborted) continue;
      active.add(entry);
      const job = runEntry(entry)
        .catch((err: unknown) => {
          // Last line of defence: a bug above must not lose the message.
          log.error({ err }, 'worker failure; requeueing the message');
          if (!entry.delivery.settled) entry.delivery.nackRequeue();
        })
        .finally(() => {
          active.delete(entry);
          running.delete(job);
          progressed();
          observer.inFlight(running.size);
          pump();
        });
      running.add(job);
      observer.inFlight(running.size);
    }
  }

  /** Gives back every message held but not running (waiting for a slot or for a retry). */
  function requeueHeld(): void {
    for (const entry of waiting.splice(0)) if (!entry.delivery.settled) entry.delivery.nackRequeue();
    for (const [entry, { cancel }] of [...retrying]) {
      cancel();
      if (!entry.delivery.settled && !entry.delivery.lost.aborted) entry.delivery.nackRequeue();
    }
  }

  function onCircuit(state: 'closed' | 'open' | 'half-open'): void {
    if (state === 'closed') {
      if (!paused) return;
      paused = false;
      pauseCtl = new AbortController();
      if (stopping) return;
      log.info('platform circuit closed: consuming again');
      void Promise.resolve(options.flow?.resume()).catch((err: unknown) => log.warn({ err: { message: errorMessageOf(err) } }, 'could not resume consuming'));
      void flushClosures();
      pump();
      return;
    }
    if (paused) return;
    paused = true;
    // Refund what the outage cost: a message never reaches the DLQ for a platform-wide condition.
    for (const rec of attempts.values()) {
      if (rec.platformFailures > 0 && rec.refunds < MAX_REFUNDS) {
        rec.attempts = Math.max(0, rec.attempts - rec.platformFailures);
        rec.refunds += 1;
      }
      rec.platformFailures = 0;
    }
    pauseCtl.abort();
    requeueHeld();
    void Promise.resolve(options.flow?.pause()).catch((err: unknown) => log.warn({ err: { message: errorMessageOf(err) } }, 'could not pause consuming'));
  }
  options.breaker?.onChange((s) => onCircuit(s.state));

  return {
    handle(delivery) {
      if (stopping || paused) {
        // Arrived while stopping, or in flight from the broker when the consumer was paused.
        delivery.nackRequeue();
        return;
      }
      const key = keyOf(delivery);
      waiting.push({ delivery, key, rec: record(key) });
      pump();
    },
    get inFlight() {
      return running.size;
    },
    health() {
      const now = clock();
      const busy = running.size + waiting.length > 0;
      return {
        running: running.size,
        waiting: waiting.length,
        retrying: retrying.size,
        paused,
        lastProgressAt: lastProgress,
        stalled: busy && !paused && now.getTime() - lastProgress.getTime() > jobTimeoutMs,
        pendingWorkClosures: pendingClosures.size,
      };
    },
    drain(graceMs) {
      if (!draining) {
        stopping = true;
        draining = (async () => {
          requeueHeld();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), graceMs);
          });
          const all = Promise.allSettled([...running]).then(() => 'done' as const);
          const first = await Promise.race([all, timeout]);
          if (timer) clearTimeout(timer);
          shutdown.abort();
          if (first === 'timeout') {
            // Do not wait for jobs stuck in a backend: give their messages back now; whatever they
            // do later cannot settle them again (and pushing is skipped once aborted).
            log.warn({ in_flight: running.size, grace_ms: graceMs }, 'shutdown grace elapsed; aborting in-flight jobs and requeueing their messages');
            for (const entry of active) if (!entry.delivery.settled) entry.delivery.nackRequeue();
          }
        })();
      }
      return draining;
    },
  };
}
