import { classifyError, type ErrorCode } from '../errors';
import { backoffDelay, type Backoff } from '../retry';

/**
 * The one place that decides what happens after an attempt (code-style §3): pure, no I/O. What a
 * failure is called and whether it can heal comes from the one classifier, classifyError (src/errors.ts).
 */

export interface RetryPolicy extends Backoff {
  /** Attempts in total (the first one included) before a transient failure is dead-lettered. */
  maxAttempts: number;
}

export type Outcome =
  | { kind: 'done' }
  | { kind: 'retry'; delayMs: number; code: ErrorCode; reason: string }
  | { kind: 'deadLetter'; code: ErrorCode; reason: string };

/**
 * @param err     what the attempt threw; null/undefined = it succeeded.
 * @param attempt attempts made so far, this one included (1 after the first failure).
 */
export function decide(err: unknown, attempt: number, policy: RetryPolicy): Outcome {
  if (err === null || err === undefined) return { kind: 'done' };
  const c = classifyError(err);
  if (!c.retryable) return { kind: 'deadLetter', code: c.code, reason: c.reason };
  if (attempt >= policy.maxAttempts) {
    return { kind: 'deadLetter', code: c.code, reason: `gave up after ${attempt} attempt(s): ${c.reason}` };
  }
  return { kind: 'retry', delayMs: backoffDelay(attempt, policy), code: c.code, reason: c.reason };
}

/**
 * Failures that are about the platform as a whole, not about the message: the circuit breaker counts
 * them, and the worker requeues instead of spending attempts while the circuit is open.
 *   'auth'        the token was rejected (PLATFORM_AUTH): opens the circuit at once
 *   'unavailable' unreachable, timed out, 5xx, an answer that is not GraphQL (PLATFORM_UNAVAILABLE),
 *                 or refused locally because the circuit is already open (PLATFORM_CIRCUIT_OPEN)
 * Everything else (PLATFORM_REJECTED, PLATFORM_FORBIDDEN, a bad message, a bug) is the message's.
 */
export function platformFailureOf(err: unknown): 'auth' | 'unavailable' | null {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  if (code === 'PLATFORM_AUTH') return 'auth';
  if (code === 'PLATFORM_UNAVAILABLE' || code === 'PLATFORM_CIRCUIT_OPEN') return 'unavailable';
  return null;
}
