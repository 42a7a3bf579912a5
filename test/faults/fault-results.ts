import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PROJECT_DIR = resolve(__dirname, '../..');

/**
 * Figures of the fault suite, merged into `var/faults-results.json` (gitignored), one key per scenario:
 * the README's Reliability table quotes the last run. Printed too with FAULT_FIGURES=1 (kept out of
 * `npm test`'s output, where twelve JSON blobs buried the summary). Jest runs suites in two workers,
 * so the read-merge-write is guarded by an exclusive lock file.
 */

export const RESULTS_FILE = join(PROJECT_DIR, 'var', 'faults-results.json');
const LOCK_FILE = `${RESULTS_FILE}.lock`;

function withLock(fn: () => void): void {
  mkdirSync(join(PROJECT_DIR, 'var'), { recursive: true });
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(LOCK_FILE, 'wx'));
      break;
    } catch {
      // A lock left by a killed run (older than 10 s) is stale.
      try {
        if (Date.now() - statSync(LOCK_FILE).mtimeMs > 10000) rmSync(LOCK_FILE, { force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`could not lock ${LOCK_FILE}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

/** Stores the figures of one scenario under `scenario` in var/faults-results.json (and prints them with FAULT_FIGURES=1). */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  const entry = { ...figures, recorded_at: new Date().toISOString() };
  if (process.env.FAULT_FIGURES === '1') console.log(`[faults] ${scenario}: ${JSON.stringify(figures)}`);
  withLock(() => {
    let all: Record<string, unknown> = {};
    if (existsSync(RESULTS_FILE)) {
      try {
        all = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
      } catch {
        all = {};
      }
    }
    all[scenario] = entry;
    const tmp = `${RESULTS_FILE}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
    renameSync(tmp, RESULTS_FILE);
  });
}

/** Seeded PRNG (mulberry32): the same seed gives the same fuzz corpus on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
