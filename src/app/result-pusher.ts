import { v4 as uuidv4 } from 'uuid';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';

/**
 * How a run's writes reach the platform, on every version (docs/processing-flow.md, "Works").
 *
 * Objects go as one-object bundles in the enrichment work, in the write plan's order (relationships,
 * then the coverage last). Who counts them differs by version: 6.9.17 and 7.260817.0 add no
 * expectation for a push with a work id (`src/domain/stix.js` sendStixBundle), master after #17265
 * adds one per pushed part itself (`src/database/rabbitmq.js` pushBundleToWorker), and a push through
 * the broker is never counted by the platform. Rather than guess from a version string, the pusher
 * reads the work's expectation count after pushing and adds only what the platform did not: the work
 * ends with expected = processed whoever counted, and completes once `toProcessed` is called. What it
 * reads is remembered (`PushCounting`): later runs skip the read, and one run in `checkEvery` reads
 * again, so a platform upgraded underneath is noticed. A broker push is counted without that read (no
 * version counts it), and a work that only this delivery wrote into starts from 0 without a read
 * (src/app/enrichment-job.ts).
 *
 * Across the attempts of one delivery the same `PushProgress` is passed back: objects already pushed
 * are not pushed again and expectations already added are not added twice.
 */

export type PushOne = ((bundle: StixBundle) => Promise<void>) & {
  /** The same push marking the work received first, in one call (GraphQL pushes). */
  carrying?: (bundle: StixBundle, receivedMessage: string) => Promise<void>;
};

/**
 * Runs `write` as the run's first write with the toReceived message to carry, and resolves true; or,
 * when the work is already marked received (or being marked), waits for that and resolves false: the
 * caller then writes on its own. src/app/worker.ts gives it.
 */
export type ReceivedBy = (write: (receivedMessage: string) => Promise<void>) => Promise<boolean>;

export interface PushProgress {
  /** Ids of objects pushed in this work by this process. */
  pushed: Set<string>;
  /** The work this delivery's results go to, once chosen (src/app/enrichment-job.ts). */
  workId?: string | null;
  /** The run was handed to the history recorder (once per delivery). */
  recorded?: boolean;
  /** The work's expectation count before this process pushed into it (read once, or 0 for a work only this delivery wrote into). */
  baseline?: number;
  /** Expectations this process added to the work. */
  added: number;
  /** Whether the expectations of every push so far are on the work. */
  settled: boolean;
}

export const newPushProgress = (): PushProgress => ({ pushed: new Set(), added: 0, settled: true });

export interface WorkCounter {
  /** Expectations the work holds now (0 when unknown or gone). */
  expected(workId: string): Promise<number>;
  addExpectations(workId: string, count: number, receivedMessage?: string): Promise<void>;
}

/** Whether the platform counts GraphQL pushes made with a work id, as the works showed it. */
export interface PushCounting {
  /** true / false as last seen; undefined: read the work (not seen yet, or time to check again). */
  known(): boolean | undefined;
  learn(platformCounts: boolean): void;
}

export function createPushCounting(checkEvery = 100): PushCounting {
  let counts: boolean | undefined;
  let since = 0;
  return {
    known() {
      if (counts === undefined) return undefined;
      since += 1;
      if (since < checkEvery) return counts;
      since = 0;
      return undefined;
    },
    learn(platformCounts) {
      counts = platformCounts;
      since = 0;
    },
  };
}

export interface PushPlan {
  workId: string | null;
  pushOne: PushOne;
  work: WorkCounter;
  progress: PushProgress;
  /** Relationship pushes in flight at once. Default 1. */
  parallelism?: number;
  /**
   * Whether the platform may add expectations for these pushes itself (GraphQL pushes: master does).
   * false for broker pushes, which no version counts: their expectations are added without reading
   * the work. Default true.
   */
  platformMayCount?: boolean;
  /** What the works showed so far (absent: read the work after every GraphQL push). */
  counting?: PushCounting;
  /** Present when the pushes go into the enrichment work and nothing was written yet: the first write marks it received. */
  receivedBy?: ReceivedBy;
}

/** `write(message)` as the first write carrying toReceived, or `plain()` when the work is already received. */
async function firstWrite(plan: PushPlan, carried: ((message: string) => Promise<void>) | undefined, plain: () => Promise<void>): Promise<void> {
  if (plan.receivedBy && carried && (await plan.receivedBy(carried))) return;
  await plain();
}

const isRelationship = (o: StixObject): boolean => o.type === 'relationship' || o.type === 'sighting';

export function singleObjectBundle(object: StixObject): StixBundle {
  return { type: 'bundle', id: `bundle--${uuidv4()}`, spec_version: '2.1', objects: [object] };
}

/**
 * Pushes `objects` in order: entities one by one, then relationships (bounded parallelism), then the
 * security-coverage last, so the re-trigger its import causes comes after the relationships were
 * queued. Returns how many objects this call pushed.
 */
export async function pushObjects(objects: StixObject[], plan: PushPlan): Promise<number> {
  const { progress, workId } = plan;
  const remaining = objects.filter((o) => !progress.pushed.has(o.id));
  if (remaining.length > 0 && workId && progress.baseline === undefined && plan.platformMayCount !== false) progress.baseline = await plan.work.expected(workId);
  const pushObject = async (object: StixObject): Promise<void> => {
    progress.settled = false;
    const bundle = singleObjectBundle(object);
    const { carrying } = plan.pushOne;
    await firstWrite(plan, carrying && ((message) => carrying(bundle, message)), () => plan.pushOne(bundle));
    progress.pushed.add(object.id);
  };
  const last = remaining.filter((o) => o.type === 'security-coverage');
  const entities = remaining.filter((o) => !isRelationship(o) && o.type !== 'security-coverage');
  const relationships = remaining.filter(isRelationship);
  try {
    for (const object of entities) await pushObject(object);
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
    for (const object of last) await pushObject(object);
  } finally {
    // Even after a failed push: what went through must be counted, or the work never completes.
    if (progress.pushed.size > 0) await settleExpectations(plan).catch(() => undefined);
  }
  await settleExpectations(plan);
  return remaining.length;
}

/**
 * Tops the work's expectations up to the number of objects this process pushed into it: whatever
 * the platform added since `baseline` counts for our pushes (master does; 6.9 and 7.2608 do not).
 * Broker pushes are never counted by the platform: only what we added counts, no read needed.
 */
async function settleExpectations(plan: PushPlan): Promise<void> {
  const { progress, workId } = plan;
  if (!workId || progress.settled) return;
  const pushed = progress.pushed.size;
  let counted: number;
  if (plan.platformMayCount === false) counted = progress.added;
  else {
    const known = plan.counting?.known();
    if (known === true) counted = pushed;
    else if (known === false) counted = progress.added;
    else {
      counted = (await plan.work.expected(workId)) - (progress.baseline ?? 0);
      // What the platform added itself: all of our pushes (it counts), none (it does not), or in
      // between (another writer in the work, say): learn only from the clear cases.
      const own = counted - progress.added;
      if (own >= pushed) plan.counting?.learn(true);
      else if (own === 0) plan.counting?.learn(false);
    }
  }
  const missing = pushed - counted;
  if (missing > 0) {
    await firstWrite(plan, (message) => plan.work.addExpectations(workId, missing, message), () => plan.work.addExpectations(workId, missing));
    progress.added += missing;
  }
  progress.settled = true;
}
