import { v4 as uuidv4 } from 'uuid';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';

/**
 * How results reach the platform, for both push modes (protocol §6.1/§6.2).
 *
 * Choice: pycti's way. The bundle is split into one-object bundles, `addExpectations(N)` is called
 * ONCE, then each object is pushed with the enrichment work id. Why not push the whole bundle and let
 * the platform's worker split it? Because the worker adds the expectations only when it gets to the
 * message, asynchronously; our `toProcessed` right after the push would find `expected == 0`,
 * complete the work, and the worker would then drop the parts as "work not alive" (pitfall P4).
 * Pre-splitting makes `expected > 0` before `toProcessed`, so the work completes when the last object
 * is imported, and a one-object bundle is never split by the worker (no double count).
 *
 * Across retries of one job the same `PushProgress` is passed back: objects already pushed are not
 * pushed again and expectations are never added twice.
 */

export type PushOne = (bundle: StixBundle) => Promise<void>;

export interface PushProgress {
  /** Expectations already added on the work. */
  expected: number;
  /** Ids of objects already pushed in this work. */
  pushed: Set<string>;
}

export const newPushProgress = (): PushProgress => ({ expected: 0, pushed: new Set() });

export interface PushPlan {
  workId: string | null;
  addExpectations: (workId: string, count: number) => Promise<void>;
  pushOne: PushOne;
  progress: PushProgress;
  /** One-object pushes in flight at once (relationships only; entities go first, one by one). Default 1. */
  parallelism?: number;
}

const isRelationship = (o: StixObject): boolean => o.type === 'relationship' || o.type === 'sighting';

/** Entities first, relationships last: targets (e.g. a platform identity) exist before what points at them. */
export function pushOrder(objects: StixObject[]): StixObject[] {
  return [...objects.filter((o) => !isRelationship(o)), ...objects.filter(isRelationship)];
}

export function singleObjectBundle(object: StixObject): StixBundle {
  return { type: 'bundle', id: `bundle--${uuidv4()}`, spec_version: '2.1', objects: [object] };
}

/** Pushes what is left of `bundle`; returns how many objects were pushed by this call. */
export async function pushBundle(bundle: StixBundle, plan: PushPlan): Promise<number> {
  const remaining = pushOrder(bundle.objects).filter((o) => !plan.progress.pushed.has(o.id));
  if (remaining.length === 0) return 0;
  if (plan.workId) {
    const missing = plan.progress.pushed.size + remaining.length - plan.progress.expected;
    if (missing > 0) {
      await plan.addExpectations(plan.workId, missing);
      plan.progress.expected += missing;
    }
  }
  const pushObject = async (object: StixObject): Promise<void> => {
    await plan.pushOne(singleObjectBundle(object));
    plan.progress.pushed.add(object.id);
  };
  // Entities first and one at a time, so what relationships point at is queued before them.
  for (const object of remaining.filter((o) => !isRelationship(o))) await pushObject(object);
  const relationships = remaining.filter(isRelationship);
  const lanes = Math.max(1, Math.min(plan.parallelism ?? 1, relationships.length));
  let next = 0;
  // A failed push rejects its lane; the others finish theirs, and `progress` keeps what went through for the retry.
  const results = await Promise.allSettled(
    Array.from({ length: lanes }, async () => {
      while (next < relationships.length) await pushObject(relationships[next++]);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return remaining.length;
}
