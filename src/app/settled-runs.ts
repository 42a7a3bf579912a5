import { createHash } from 'node:crypto';
import type { CoverageState } from '../adapters/opencti/coverage-api';
import { setBounded } from '../domain/bounded-map';
import type { CoverageRequest } from '../domain/coverage/coverage-types';
import type { TechniqueCounts } from './job-observer';

/**
 * Per coverage, the last run that found the platform already holding its result: the digest of
 * everything that run's outcome depended on, so the next run with the same digest — the re-trigger of
 * a write, a periodic re-run on unchanged rules and content — is known to find the same and skips the
 * assessment, the result bundle and the write plan. Its work is still closed and its run still goes
 * into the history (as a repeat of the latest snapshot). Small entries (under 1 KB), bounded.
 */

export interface SettledRun {
  key: string;
  /** `settledGlance` of that run's state: a run whose glance differs is not settled, without the digest. */
  glance: string;
  /** The history's snapshot hash of that run (undefined without a score history). */
  snapshotHash?: string;
  /** The work message of that run. */
  note: string;
  overall: ReadonlyArray<{ name: string; score: number }>;
  counts: TechniqueCounts;
}

export interface SettledRuns {
  get(coverageId: string): SettledRun | undefined;
  set(coverageId: string, run: SettledRun): void;
  readonly size: number;
}

export function createSettledRuns(max: number): SettledRuns {
  const runs = new Map<string, SettledRun>();
  return {
    get: (coverageId) => runs.get(coverageId),
    set: (coverageId, run) => void setBounded(runs, coverageId, run, max),
    get size() {
      return runs.size;
    },
  };
}

/** A cheap look at what the platform holds (the stored scores, how many has-covered and notes). */
export function settledGlance(state: CoverageState): string {
  return `${JSON.stringify(state.coverage ?? null)} ${state.hasCovered.length} ${state.notes.length}`;
}

/**
 * Digest of a run's inputs: what the assessor depends on besides the request (`inputsVersion`), the
 * request (the message's `created`/`modified` left out: a write moves them and nothing reads them to
 * decide) and what the platform holds that the write plan compares (scores, external_uri, every
 * has-covered, the notes). Runs that refresh the validity dates never get here.
 */
export function settledRunKey(inputsVersion: string, request: CoverageRequest, state: CoverageState): string {
  const { created: _created, modified: _modified, ...decisive } = request;
  const held = [state.id, state.standardId, state.name, state.coverage ?? null, state.externalUri ?? null, state.covered ?? null, state.hasCovered, state.notes];
  return createHash('sha256').update(JSON.stringify([inputsVersion, decisive, held])).digest('base64');
}
