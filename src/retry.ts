import { setTimeout as timersSetTimeout } from 'node:timers/promises';

/**
 * The one backoff and the one sleep. Every retry loop (worker attempts, startup registration, the
 * platform circuit's probes, the backends' HTTP client, the leader lock's reconnects) waits with these,
 * so one formula decides how hard a recovering system is hit.
 */

export interface Backoff {
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** [0, 1) source of jitter; Math.random by default. */
  random?: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": half the step is fixed, half random, so retries of
 * many callers spread out but never collapse to 0. attempt 1 → [base/2, base], 2 → [base, 2×base], …,
 * never above max.
 */
export function backoffDelay(attempt: number, backoff: Backoff): number {
  const random = backoff.random ?? Math.random;
  const step = Math.min(backoff.backoffMaxMs, backoff.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Waits `ms`; rejects with the AbortError of node:timers/promises as soon as `signal` fires (no timer
 * or listener left behind either way).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return timersSetTimeout(ms, undefined, signal ? { signal } : undefined);
}

/** Whether `err` is the rejection of an aborted sleep (or of any aborted web API). */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}
