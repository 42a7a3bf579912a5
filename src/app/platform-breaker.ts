import { Counter, Gauge, type Registry } from 'prom-client';
import { PlatformCircuitOpenError, errorCodeOf, errorMessageOf } from '../errors';
import type { CallGate } from '../adapters/opencti/graphql-client';
import type { Logger } from './logger';
import { METRIC_PREFIX } from './metrics';
import { platformFailureOf, type RetryPolicy } from './outcome';
import { backoffDelay } from '../retry';

/**
 * Circuit breaker in front of the platform (every GraphQL call goes through it as a CallGate).
 *
 *   closed ──(a rejected token, or `failureThreshold` platform-wide failures in a row)──▶ open
 *   open ──(after a backoff delay)──▶ half-open: one probe call, alone
 *   half-open ──probe answered──▶ closed        half-open ──probe failed──▶ open (longer delay)
 *
 * Platform-wide failures are those that say nothing about the message: the platform unreachable,
 * timing out, answering 5xx/HTML, or rejecting the token (src/app/outcome.ts `platformFailureOf`).
 * While not closed, calls are refused at once (PLATFORM_CIRCUIT_OPEN) so no job waits on a dead
 * platform; the worker pauses consumption and requeues its in-flight messages without spending their
 * attempts. Hand-written rather than cockatiel/opossum: the probe is our own call (consumption is
 * paused, so no real call would ever half-open the circuit), and a rejected token trips at once while
 * an outage needs several failures.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSnapshot {
  state: BreakerState;
  /** Why the circuit is (or last was) open: the platform unavailable, or the token rejected. */
  cause: 'unavailable' | 'auth' | null;
  /** Error code and message of the failure that opened it (or of the last failed probe). */
  code: string | null;
  reason: string | null;
  openedAt: Date | null;
  nextProbeAt: Date | null;
  /** Failed probes since the circuit opened. */
  failedProbes: number;
  /** Times the circuit opened since start. */
  trips: number;
  consecutiveFailures: number;
}

export interface BreakerOptions {
  /** Platform-wide failures in a row (any call) that open the circuit; a rejected token opens it at once. */
  failureThreshold: number;
  /** One cheap authenticated call; resolves when the platform answers with the token accepted. */
  probe: () => Promise<void>;
  /** Delays between probes (capped exponential backoff with jitter, the worker's formula). */
  probeBackoff: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs' | 'random'>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  clock?: () => Date;
}

export interface PlatformBreaker extends CallGate {
  readonly state: BreakerState;
  snapshot(): BreakerSnapshot;
  /** Called on every state change; returns an unsubscribe function. */
  onChange(listener: (snapshot: BreakerSnapshot) => void): () => void;
  /** Stops probing (shutdown). Idempotent. */
  close(): void;
}

function openMessage(cause: 'unavailable' | 'auth'): string {
  return cause === 'auth'
    ? "circuit open: OpenCTI rejected the token, check OPENCTI_TOKEN (revoked or rotated?); consumption paused, nothing is dead-lettered"
    : 'circuit open: OpenCTI is unavailable; consumption paused, in-flight messages requeued, nothing is dead-lettered';
}

export function createPlatformBreaker(options: BreakerOptions): PlatformBreaker {
  const clock = options.clock ?? (() => new Date());
  const listeners = new Set<(s: BreakerSnapshot) => void>();
  const policy: RetryPolicy = { maxAttempts: Infinity, ...options.probeBackoff };
  let state: BreakerState = 'closed';
  let cause: BreakerSnapshot['cause'] = null;
  let code: string | null = null;
  let reason: string | null = null;
  let openedAt: Date | null = null;
  let nextProbeAt: Date | null = null;
  let failedProbes = 0;
  let trips = 0;
  let consecutive = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const snapshot = (): BreakerSnapshot => ({ state, cause, code, reason, openedAt, nextProbeAt, failedProbes, trips, consecutiveFailures: consecutive });

  function emit(): void {
    const s = snapshot();
    for (const l of [...listeners]) {
      try {
        l(s);
      } catch (err) {
        options.log.warn({ err: { message: errorMessageOf(err) } }, 'circuit breaker listener failed');
      }
    }
  }

  /** Arms the next probe; returns its delay. */
  function scheduleProbe(): number {
    if (closed) return 0;
    const delay = backoffDelay(failedProbes + 1, policy);
    nextProbeAt = new Date(clock().getTime() + delay);
    timer = setTimeout(() => void runProbe(), delay);
    timer.unref?.();
    return delay;
  }

  async function runProbe(): Promise<void> {
    timer = undefined;
    if (closed || state !== 'open') return;
    state = 'half-open';
    nextProbeAt = null;
    emit();
    let failure: ReturnType<typeof platformFailureOf> = null;
    let error: unknown;
    try {
      await options.probe();
    } catch (err) {
      error = err;
      failure = platformFailureOf(err);
    }
    if (closed) return;
    if (!failure) {
      // Answered (even with a GraphQL error about the probe itself): reachable, token accepted.
      const downMs = openedAt ? clock().getTime() - openedAt.getTime() : 0;
      state = 'closed';
      consecutive = 0;
      nextProbeAt = null;
      options.log.info({ down_ms: downMs, failed_probes: failedProbes, cause }, 'OpenCTI answers again: circuit closed, consumption resumed');
      failedProbes = 0;
      emit();
      return;
    }
    failedProbes += 1;
    state = 'open';
    const newCause = failure === 'auth' ? 'auth' : 'unavailable';
    const changed = newCause !== cause;
    cause = newCause;
    code = errorCodeOf(error);
    reason = errorMessageOf(error);
    const fields = { code, cause, failed_probes: failedProbes, next_probe_in_ms: scheduleProbe(), reason };
    if (changed) options.log.error(fields, openMessage(cause));
    else options.log.warn(fields, cause === 'auth' ? 'probe: OpenCTI still rejects OPENCTI_TOKEN; circuit stays open' : 'probe: OpenCTI still unavailable; circuit stays open');
    emit();
  }

  function open(kind: 'unavailable' | 'auth', err: unknown): void {
    state = 'open';
    cause = kind;
    code = errorCodeOf(err);
    reason = errorMessageOf(err);
    openedAt = clock();
    failedProbes = 0;
    trips += 1;
    options.log.error({ code, cause, consecutive_failures: consecutive, reason }, openMessage(kind));
    scheduleProbe();
    emit();
  }

  return {
    get state() {
      return state;
    },
    snapshot,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    admit(operation, probe) {
      if (state === 'closed' || probe) return;
      throw new PlatformCircuitOpenError(
        `${operation ?? 'GraphQL'}: not sent, the OpenCTI circuit is open (${cause === 'auth' ? 'OPENCTI_TOKEN rejected' : 'platform unavailable'}; next probe ${nextProbeAt ? nextProbeAt.toISOString() : 'running'})`,
      );
    },
    settle(error, probe) {
      // While open only the probe decides; late answers of calls sent before the trip are ignored.
      if (probe || state !== 'closed' || closed) return;
      const failure = error === null ? null : platformFailureOf(error);
      if (!failure) {
        consecutive = 0;
        return;
      }
      consecutive += 1;
      if (failure === 'auth') open('auth', error);
      else if (consecutive >= options.failureThreshold) open('unavailable', error);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}

/** Breaker state on /metrics: a state gauge (0 closed, 1 open, 2 half-open) and trips by cause. */
export function registerBreakerMetrics(registry: Registry, breaker: PlatformBreaker): void {
  const registers = [registry];
  const stateCode: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };
  const gauge = new Gauge({
    name: `${METRIC_PREFIX}platform_circuit_state`,
    help: 'OpenCTI circuit breaker: 0 closed (consuming), 1 open (consumption paused), 2 half-open (probing)',
    registers,
    collect() {
      gauge.set(stateCode[breaker.state]);
    },
  });
  const opened = new Counter({ name: `${METRIC_PREFIX}platform_circuit_opened_total`, help: 'Times the OpenCTI circuit opened, by cause (unavailable, auth)', labelNames: ['cause'] as const, registers });
  let lastTrips = 0;
  breaker.onChange((s) => {
    if (s.trips > lastTrips && s.cause) opened.inc({ cause: s.cause }, s.trips - lastTrips);
    lastTrips = s.trips;
  });
}
