import type { Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';

/** Counting helpers shared by the fault suites: outcomes read from the fake platform's state. */

/** Pushes of each coverage's own object (its deterministic id), by coverage standard id. */
export function pushesPerCoverage(h: Harness): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of h.fake.state.pushes) {
    for (const o of p.objects) {
      if (o.type === 'security-coverage' && typeof o.id === 'string') counts.set(o.id, (counts.get(o.id) ?? 0) + 1);
    }
  }
  return counts;
}

export interface OutcomeTally {
  coverages: number;
  /** Coverages whose result is stored on the platform (scores present). */
  withResult: number;
  /** Coverages never pushed: lost. */
  lost: number;
  /** Coverages whose object was pushed more than once. */
  pushedTwice: number;
  /** Works closed more than once (a redelivered copy ran again). */
  redelivered: number;
  /** Redelivered copies that found the result already stored and pushed nothing. */
  duplicatesSuppressed: number;
  /** Works closed in error. */
  inError: number;
}

export function tally(h: Harness, coverages: FakeCoverage[], workIds: string[]): OutcomeTally {
  const pushes = pushesPerCoverage(h);
  const works = workIds.map((id) => h.fake.state.works.get(id));
  return {
    coverages: coverages.length,
    withResult: coverages.filter((c) => (h.fake.state.coverages.get(c.standardId)?.coverage ?? []).length > 0).length,
    lost: coverages.filter((c) => (pushes.get(c.standardId) ?? 0) === 0).length,
    pushedTwice: coverages.filter((c) => (pushes.get(c.standardId) ?? 0) > 1).length,
    redelivered: works.filter((w) => (w?.processedCalls.length ?? 0) > 1).length,
    duplicatesSuppressed: works.reduce((n, w) => n + (w?.processedCalls.filter((p) => !p.inError && /unchanged/i.test(p.message)).length ?? 0), 0),
    inError: works.filter((w) => w?.processedCalls.some((p) => p.inError)).length,
  };
}

/** True once every work was closed at least once without error. */
/** Every work closed without error, and the platform has imported everything pushed (imports are asynchronous). */
export const allClosedOk = (h: Harness, workIds: string[]): boolean =>
  h.fake.idle && workIds.every((id) => h.fake.state.works.get(id)?.processedCalls.some((p) => !p.inError) === true);

export const closedCount = (h: Harness, workIds: string[]): number =>
  workIds.filter((id) => (h.fake.state.works.get(id)?.processedCalls.length ?? 0) > 0).length;
