import type { FakeOpenCti } from '../../test/support/fake-opencti/server';
import type { FakeCoverage } from '../../test/support/fake-opencti/state';
import { delay, nowMs } from '../lib/measure';

/**
 * Drives enrichment traffic through the fake platform and times each message from its publication to
 * the connector's `toProcessed` on its work (what the platform shows as done; the ack follows at once).
 * Keeps the fake's recordings trimmed so 100,000 messages do not grow the platform side.
 */

/**
 * What each message of a phase is: `rescore` — the stored scores wiped, the run assesses and writes
 * them back; `scheduled` — what the scheduler sends once a result's validity has lapsed (mode manual,
 * valid_to in the past): new dates to write, rules and content unchanged.
 */
export type PhaseKind = 'rescore' | 'scheduled';

export interface Phase {
  kind: PhaseKind;
  published: number;
  completed: number;
  failed: number;
  latenciesMs: number[];
  firstCompletion?: number;
  lastCompletion?: number;
}

export interface Traffic {
  readonly outstanding: number;
  readonly completedTotal: number;
  /** Platform HTTP calls served so far. */
  readonly platformCalls: number;
  newPhase(kind?: PhaseKind): Phase;
  /**
   * Publishes one message for the next coverage of the pool (stored scores wiped so a push happens;
   * `firstRun`: its has-covered and note too, as before its first assessment); returns its work id.
   */
  publishOne(phase: Phase, firstRun?: boolean): string;
  /** Resolves at the next completion (or after `ms`). */
  nextCompletion(ms?: number): Promise<void>;
  /** Waits until nothing is outstanding; rejects after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  readonly publishErrors: number;
  /** While false the recordings are not trimmed (a capture reads them). */
  trimming: boolean;
}

export function createTraffic(fake: FakeOpenCti, connectorId: string, pool: FakeCoverage[]): Traffic {
  const pending = new Map<string, { t0: number; phase: Phase }>();
  let waiters: Array<() => void> = [];
  let next = 0;
  let completedTotal = 0;
  let platformCalls = 0;
  let publishErrors = 0;

  const done = (workId: string, inError: boolean): void => {
    const p = pending.get(workId);
    if (!p) return;
    const t = nowMs();
    // The work stays until it completes: the platform drops imports into a work that is gone.
    pending.delete(workId);
    const { phase } = p;
    phase.completed += 1;
    if (inError) phase.failed += 1;
    phase.latenciesMs.push(t - p.t0);
    phase.firstCompletion ??= t;
    phase.lastCompletion = t;
    completedTotal += 1;
    if (completedTotal % 500 === 0 && traffic.trimming) {
      platformCalls += fake.calls.length;
      fake.calls.length = 0;
      fake.state.pushes.length = 0;
      for (const [id, work] of fake.state.works) if (work.status === 'complete') fake.state.works.delete(id);
      // The re-triggered runs whose works are complete (settle() waits for the others).
      const open = fake.enrichments.filter((e) => fake.state.works.has(e.workId));
      fake.enrichments.splice(0, fake.enrichments.length, ...open);
    }
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  // Every work the platform creates reports its first toProcessed to us.
  const createWork = fake.state.createWork.bind(fake.state);
  fake.state.createWork = (id, status) => {
    const work = createWork(id, status);
    const calls = work.processedCalls;
    const push = calls.push.bind(calls);
    calls.push = (...items) => {
      const n = push(...items);
      done(work.id, items.some((i) => i.inError));
      return n;
    };
    return work;
  };

  const traffic: Traffic = {
    trimming: true,
    get outstanding() {
      return pending.size;
    },
    get completedTotal() {
      return completedTotal;
    },
    get platformCalls() {
      return platformCalls + fake.calls.length;
    },
    get publishErrors() {
      return publishErrors;
    },
    newPhase: (kind = 'rescore') => ({ kind, published: 0, completed: 0, failed: 0, latenciesMs: [] }),
    publishOne(phase, firstRun = false) {
      const coverage = pool[next % pool.length];
      next += 1;
      if (phase.kind === 'scheduled') coverage.validTo = '2020-01-01T00:00:00.000Z';
      else coverage.coverage = undefined;
      if (firstRun) {
        fake.state.relationships = fake.state.relationships.filter((r) => r.from !== coverage.standardId);
        fake.state.notes = fake.state.notes.filter((n) => !n.objectRefs.includes(coverage.standardId));
      }
      const { body, workId } = fake.enrichmentMessage(connectorId, coverage, phase.kind === 'scheduled' ? { mode: 'manual', trigger: 'update' } : {});
      pending.set(workId, { t0: nowMs(), phase });
      phase.published += 1;
      fake.broker.publishListen(connectorId, Buffer.from(JSON.stringify(body))).catch(() => {
        publishErrors += 1;
        pending.delete(workId);
      });
      return workId;
    },
    nextCompletion(ms = 200) {
      return Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), delay(ms)]);
    },
    async drain(timeoutMs) {
      const end = nowMs() + timeoutMs;
      while (pending.size > 0) {
        if (nowMs() > end) throw new Error(`${pending.size} message(s) still not processed after ${timeoutMs} ms`);
        await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), delay(250)]);
      }
    },
  };
  return traffic;
}
