import { createHash } from 'node:crypto';
import { EnrichmentMessageSchema, entityIdOf, workIdOf, type EnrichmentMessage } from '../../schemas/message';
import type { Delivery } from '../adapters/amqp/broker';
import type { DeadLetterPublisher } from '../adapters/amqp/dead-letter';
import { priorFailures } from '../adapters/amqp/dlq-admin';
import { workIdTime } from './metrics';
import type { WorkApi } from '../adapters/opencti/work-api';
import { InvalidMessageError, LimitExceededError, errorMessageOf } from '../errors';
import { runEnrichment, type JobDeps, type JobResult } from './enrichment-job';
import type { JobObserver } from './job-observer';
import type { Logger } from './logger';
import { decide, type RetryPolicy } from './outcome';
import { newPushProgress } from './result-pusher';

/**
 * Takes deliveries from the listen queue and guarantees, for each one, exactly one ack or nack and
 * nothing lost (docs/processing-flow.md):
 *   success            → toProcessed(note)                      → ack
 *   transient failure  → wait (capped exponential backoff + jitter), retry in place, up to max_attempts
 *   permanent / gave up→ toProcessed(reason, inError) → DLQ publish confirmed → ack
 *   DLQ publish failed → nack with requeue (a plain nack would drop it: the queue has no DLX)
 * Attempts are counted per message id (or body hash) across redeliveries to this process.
 */

export interface WorkerOptions {
  log: Logger;
  observer: JobObserver;
  work: WorkApi;
  job: Omit<JobDeps, 'observer' | 'clock'>;
  deadLetter: DeadLetterPublisher;
  listenQueue: string;
  concurrency: number;
  maxMessageBytes: number;
  policy: RetryPolicy;
  clock?: () => Date;
  // ── scheduler hook (added by SCHEDULER; docs/scheduling.md) ──
  /** Called after each enrichment that ran (pushed or unchanged): the scheduler plans the next run from it. */
  onRun?: (message: EnrichmentMessage, ranAt: Date) => void;
  // ── end scheduler hook ──
}

export interface Worker {
  /** Hands a delivery to the worker (never throws; settles it exactly once). */
  handle(delivery: Delivery): void;
  readonly inFlight: number;
  /**
   * Stops taking new work: queued deliveries and those waiting for a retry are requeued; running jobs
   * get `graceMs` to finish, then are aborted and requeued. Idempotent.
   */
  drain(graceMs: number): Promise<void>;
}

interface AttemptRecord {
  attempts: number;
  firstFailure?: Date;
  /** Attempts made before this message was dead-lettered and replayed (`x-attempts`; OPERATOR). */
  prior?: number;
}

/** Remembered attempts per message; bounded so a flood of distinct poison messages cannot grow it forever. */
const MAX_TRACKED = 10000;

class ShutdownAbort extends Error {}

function keyOf(delivery: Delivery): string {
  if (delivery.messageId) return `id:${delivery.messageId}`;
  return `sha256:${createHash('sha256').update(delivery.content).digest('hex')}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ShutdownAbort('shutting down'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ShutdownAbort('shutting down'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createWorker(options: WorkerOptions): Worker {
  const { log, observer, work, policy } = options;
  const clock = options.clock ?? (() => new Date());
  const attempts = new Map<string, AttemptRecord>();
  const waiting: Delivery[] = [];
  const running = new Set<Promise<void>>();
  /** Deliveries of running jobs, so a drain that runs out of time can requeue them. */
  const active = new Set<Delivery>();
  /** Aborted when draining starts: ends backoff waits at once. */
  const stopWaits = new AbortController();
  /** Aborted when the grace period is over: running jobs give up. */
  const shutdown = new AbortController();
  let stopping = false;
  let draining: Promise<void> | undefined;

  const jobDeps: JobDeps = { ...options.job, observer, clock };

  function record(key: string): AttemptRecord {
    let r = attempts.get(key);
    if (!r) {
      if (attempts.size >= MAX_TRACKED) attempts.delete(attempts.keys().next().value as string);
      r = { attempts: 0 };
      attempts.set(key, r);
    }
    return r;
  }

  async function closeWork(workId: string | undefined, message: string, inError: boolean, jobLog: Logger): Promise<void> {
    if (!workId) return;
    try {
      await work.toProcessed(workId, message, inError);
    } catch (err) {
      // Best effort on the error path: the DLQ keeps the message even if the platform is down.
      jobLog.warn({ err: { message: errorMessageOf(err) } }, 'could not close the work');
    }
  }

  async function deadLetter(delivery: Delivery, rec: AttemptRecord, code: string, reason: string, ids: { workId?: string; coverageId?: string }, jobLog: Logger): Promise<void> {
    const now = clock();
    await closeWork(ids.workId, `Failed (${code}): ${reason}`, true, jobLog);
    try {
      await options.deadLetter(delivery, {
        code,
        reason,
        attempts: Math.max(1, rec.attempts) + (rec.prior ?? 0),
        firstFailure: rec.firstFailure ?? now,
        lastFailure: now,
        originalQueue: options.listenQueue,
        ...ids,
      });
    } catch (err) {
      jobLog.error({ err: { message: errorMessageOf(err) }, code }, 'dead-letter publish failed; requeueing the message');
      delivery.nackRequeue();
      return;
    }
    delivery.ack();
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

  async function processDelivery(delivery: Delivery): Promise<void> {
    observer.received();
    const published = delivery.properties.timestamp as number | undefined;
    if (typeof published === 'number' && published > 0) {
      // AMQP timestamps are seconds; some publishers put milliseconds.
      const ms = published > 1e11 ? published : published * 1000;
      observer.lag(Math.max(0, (clock().getTime() - ms) / 1000));
    }
    const key = keyOf(delivery);
    const rec = record(key);
    // ── operator (OPERATOR): a replayed dead letter carries x-attempts / x-first-failure. The count
    // continues from there (what the DLQ shows next time); the retry budget starts afresh. ──
    if (rec.prior === undefined) {
      const prior = priorFailures(delivery.headers);
      rec.prior = prior.attempts;
      if (prior.firstFailure) rec.firstFailure ??= prior.firstFailure;
    }
    // ── end operator ──
    const { message, raw, error } = parse(delivery);
    const workId = message?.internal.work_id ?? workIdOf(raw) ?? undefined;
    const coverageId = message?.event.entity_id ?? entityIdOf(raw);
    const jobLog = log.child({ work_id: workId ?? null, coverage_id: coverageId ?? null, delivery_tag: delivery.deliveryTag });
    const ids = { ...(workId ? { workId } : {}), ...(coverageId ? { coverageId } : {}) };
    // ── operator (OPERATOR): the platform sets no AMQP timestamp; its work id carries the creation time ──
    if (!(typeof published === 'number' && published > 0) && workId) {
      const createdAt = workIdTime(workId);
      if (createdAt) observer.lag(Math.max(0, (clock().getTime() - createdAt.getTime()) / 1000));
    }
    // ── end operator ──
    if (error || !message) {
      rec.attempts += 1;
      rec.firstFailure ??= clock();
      const code = (error as { code?: string }).code ?? 'MESSAGE_INVALID';
      observer.failed(code, false);
      await deadLetter(delivery, rec, code, errorMessageOf(error), ids, jobLog);
      attempts.delete(key);
      return;
    }

    const progress = newPushProgress();
    let received = false;
    // Stop when shutting down or when this copy's channel died (the broker redelivers it elsewhere).
    // Not AbortSignal.any: on Node 20 it keeps every derived signal reachable from the long-lived
    // shutdown signal (~180 B leaked per message in bench B7). These links are removed per job.
    const jobLink = linkSignals(shutdown.signal, delivery.lost);
    const waitLink = linkSignals(stopWaits.signal, delivery.lost);
    const jobSignal = jobLink.signal;
    const waitSignal = waitLink.signal;
    try {
      for (;;) {
        let result: JobResult | undefined;
        let failure: unknown;
        try {
          if (!received && workId) {
            await work.toReceived(workId, 'Security coverage assessment started');
            received = true;
            // A redelivered copy (we or another replica died mid-push) must not add the expectations again,
            // or the work would wait forever for imports that never come.
            if (delivery.redelivered) progress.expected = await work.expected(workId);
          }
          result = await runEnrichment(jobDeps, message, { log: jobLog, signal: jobSignal, progress });
          if (workId) await work.toProcessed(workId, result.note, false);
        } catch (err) {
          failure = err;
        }
        if (result && failure === undefined) {
          delivery.ack();
          attempts.delete(key);
          observer.succeeded(result.outcome);
          jobLog.info({ outcome: result.outcome, note: result.note }, 'enrichment done');
          // ── scheduler hook (added by SCHEDULER) ──
          if (result.outcome !== 'skipped') {
            try {
              options.onRun?.(message, clock());
            } catch (err) {
              jobLog.warn({ err: { message: errorMessageOf(err) } }, 'could not tell the scheduler about this run');
            }
          }
          // ── end scheduler hook ──
          return;
        }
        if (delivery.lost.aborted) {
          jobLog.warn('channel lost during the job; the broker redelivers the message');
          return;
        }
        if (shutdown.signal.aborted) {
          // Stopping mid-job: give the message back untouched; the next consumer redoes it (idempotent).
          if (!delivery.settled) delivery.nackRequeue();
          return;
        }
        rec.attempts += 1;
        rec.firstFailure ??= clock();
        const decision = decide(failure, rec.attempts, policy);
        if (decision.kind === 'retry') {
          observer.failed(decision.code, true);
          jobLog.warn({ code: decision.code, reason: decision.reason, attempt: rec.attempts, delay_ms: decision.delayMs }, 'attempt failed; retrying');
          try {
            await sleep(decision.delayMs, waitSignal);
          } catch {
            if (!delivery.lost.aborted) delivery.nackRequeue();
            return;
          }
          continue;
        }
        if (decision.kind === 'deadLetter') {
          observer.failed(decision.code, false);
          if (decision.code === 'UNEXPECTED' || !(failure as { code?: string })?.code) {
            jobLog.error({ err: failure }, 'unexpected failure');
          }
          await deadLetter(delivery, rec, decision.code, decision.reason, ids, jobLog);
          attempts.delete(key);
          return;
        }
      }
    } finally {
      jobLink.dispose();
      waitLink.dispose();
    }
  }

  function pump(): void {
    while (!stopping && running.size < options.concurrency && waiting.length > 0) {
      const delivery = waiting.shift() as Delivery;
      active.add(delivery);
      const job = processDelivery(delivery)
        .catch((err: unknown) => {
          // Last line of defence: a bug above must not lose the message.
          log.error({ err }, 'worker failure; requeueing the message');
          if (!delivery.settled) delivery.nackRequeue();
        })
        .finally(() => {
          active.delete(delivery);
          running.delete(job);
          observer.inFlight(running.size);
          pump();
        });
      running.add(job);
      observer.inFlight(running.size);
    }
  }

  return {
    handle(delivery) {
      if (stopping) {
        delivery.nackRequeue();
        return;
      }
      waiting.push(delivery);
      pump();
    },
    get inFlight() {
      return running.size;
    },
    drain(graceMs) {
      if (!draining) {
        stopping = true;
        stopWaits.abort();
        draining = (async () => {
          for (const d of waiting.splice(0)) d.nackRequeue();
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
            for (const d of active) if (!d.settled) d.nackRequeue();
          }
        })();
      }
      return draining;
    },
  };
}

/** An AbortSignal that fires when any source does; `dispose()` detaches it from the sources. */
function linkSignals(...sources: AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  for (const source of sources) {
    if (source.aborted) {
      controller.abort();
      break;
    }
    source.addEventListener('abort', abort, { once: true });
  }
  return { signal: controller.signal, dispose: () => sources.forEach((source) => source.removeEventListener('abort', abort)) };
}
