/** Small measuring helpers shared by the suites. */

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Nearest-rank percentile of `values` (0 < p ≤ 100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const MB = 1024 * 1024;

/** Forces a full GC when the process runs with --expose-gc (the bench children do). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
}

export function memorySample(): MemorySample {
  collectGarbage();
  const m = process.memoryUsage();
  return { rssMb: round(m.rss / MB), heapUsedMb: round(m.heapUsed / MB) };
}

/** Resolves after `ms`, unref'd so it never keeps a finished bench alive. */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });

/** Rejects with `what timed out` after `ms` (the bench never waits forever on a signal). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
