/**
 * What the worker and scheduler report about jobs. src/app/metrics.ts implements it with prom-client;
 * tests use recording fakes; `noopObserver` when metrics are off.
 */
export interface JobObserver {
  /** A delivery was taken from the listen queue. */
  received(): void;
  /** Result pushed (or nothing to push) and the work closed. `outcome` says which. */
  succeeded(outcome: 'pushed' | 'unchanged' | 'skipped'): void;
  /** An attempt failed; `willRetry` tells whether another attempt follows. */
  failed(code: string, willRetry: boolean): void;
  /** The message went to our dead-letter queue. */
  deadLettered(code: string): void;
  /** One assessment by a backend, with its duration. */
  assessed(backend: string, seconds: number): void;
  /** One push to the platform, with its duration. */
  pushed(seconds: number): void;
  /** Seconds between the message's publication and its processing start, when known. */
  lag(seconds: number): void;
  /** Coverages due at the last scheduler tick. */
  schedulerDue(count: number): void;
  /** Jobs in flight right now. */
  inFlight(count: number): void;
  /** A coverage's latest scores and technique counts (Prometheus gauges per coverage, capped). */
  scored?(coverageId: string, overall: ReadonlyArray<{ name: string; score: number }>, techniques: TechniqueCounts): void;
}

/** Techniques of one coverage: detection ≥ 50 (covered), tested below 50 (uncovered), or not tested. */
export interface TechniqueCounts {
  covered: number;
  uncovered: number;
  notTested: number;
}

export const noopObserver: JobObserver = {
  received: () => undefined,
  succeeded: () => undefined,
  failed: () => undefined,
  deadLettered: () => undefined,
  assessed: () => undefined,
  pushed: () => undefined,
  lag: () => undefined,
  schedulerDue: () => undefined,
  inFlight: () => undefined,
};
