import { noopObserver, type JobObserver } from '../../src/app/job-observer';
import type { Daemon } from '../../src/app/main';
import { describeWithBroker } from '../support/env';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';
import { recordFigures } from './fault-results';
import { allClosedOk, tally } from './fault-support';

/**
 * Two daemons (two replicas of the same connector) consuming the same listen queue, both with the
 * scheduler on: every message is processed by exactly one of them (one work closure, one push per
 * coverage), both take a share, and only one is the scheduler leader, so each due coverage is asked
 * for once, not twice.
 */

const N = 60;
const DUE = 10;
const DAY = 86400_000;

function tickCounter(): { observer: JobObserver; ticks: () => number; onTick: (listener: () => void) => () => void } {
  let ticks = 0;
  const listeners = new Set<() => void>();
  return {
    observer: {
      ...noopObserver,
      schedulerDue: () => {
        ticks += 1;
        for (const l of [...listeners]) l();
      },
    },
    ticks: () => ticks,
    onTick: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Resolves once one of the counters (the leader's) has ticked `n` more times; leaves no timer or listener behind. */
function moreTicks(counters: Array<ReturnType<typeof tickCounter>>, n: number, timeoutMs = 20000): Promise<void> {
  const targets = counters.map((c) => c.ticks() + n);
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (err) reject(err);
      else resolve();
    };
    const check = (): void => {
      if (counters.some((c, i) => c.ticks() >= targets[i])) done();
    };
    const timer = setTimeout(() => done(new Error(`no replica ticked ${n} more times: ${counters.map((c) => c.ticks()).join('/')}`)), timeoutMs);
    const offs = counters.map((c) => c.onTick(check));
    check();
  });
}

async function isLeader(d: Daemon): Promise<boolean | null> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/status`);
  const body = (await res.json()) as { scheduler?: { leader?: boolean | null } };
  return body.scheduler?.leader ?? null;
}

describeWithBroker('fault: two daemons on the same queue', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it(`processes each of ${N} messages once between two replicas and schedules with one leader`, async () => {
    const now = Date.now();
    const due: FakeCoverage[] = Array.from({ length: DUE }, (_, i) =>
      h.reportCoverage([`T${1500 + i}`], { created: new Date(now - 5 * DAY).toISOString(), lastResult: new Date(now - 2 * DAY).toISOString(), periodicity: 'PT6H', duration: 'P30D' }).coverage,
    );
    const coverages: FakeCoverage[] = Array.from({ length: N }, (_, i) => h.reportCoverage([`T${1000 + (i % 400)}`]).coverage);
    const assessors = [fakeAssessor(), fakeAssessor()];
    const counters = [tickCounter(), tickCounter()];
    const config = (i: number) => ({
      worker: { concurrency: 4, prefetch: 10 },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      scheduler: { enabled: true, tick_cron: '* * * * * *', lock_heartbeat_seconds: 1 },
      connector: { name: `Coverage replica ${i}` },
    });
    const daemons = [
      await h.start({ config: config(0), assessor: assessors[0], daemon: { observer: counters[0].observer } }),
      await h.start({ config: config(1), assessor: assessors[1], daemon: { observer: counters[1].observer } }),
    ];
    const workIds = await Promise.all(coverages.map((c) => h.fake.publishEnrichment(h.connectorId, c)));
    await h.fake.until(() => allClosedOk(h, workIds), 60000, `all ${N} works`);
    // Let the leader tick a few more times once everything is in: a second scheduler would ask again.
    await moreTicks(counters, 3);
    await h.fake.until(() => due.every((c) => c.lastResult && new Date(c.lastResult).getTime() > now - 60_000), 30000, 'the due coverages run');

    const leaders = await Promise.all(daemons.map(isLeader));
    const t = tally(h, coverages, workIds);
    const closures = workIds.map((id) => h.fake.state.works.get(id)?.processedCalls.length ?? 0);
    const asks = due.map((c) => h.fake.callsOf('ScheduleAskEnrichment').filter((call) => JSON.stringify(call.variables).includes(c.internalId) || JSON.stringify(call.variables).includes(c.standardId)).length);
    const shares = assessors.map((a) => a.calls.filter((r) => coverages.some((c) => c.standardId === r.coverageId)).length);
    recordFigures('two_daemons', {
      messages: N,
      processed_by_replica: shares,
      works_closed_twice: closures.filter((n) => n > 1).length,
      pushed_twice: t.pushedTwice,
      lost: t.lost,
      leaders: leaders.filter((l) => l === true).length,
      scheduler_ticks_by_replica: counters.map((c) => c.ticks()),
      due_coverages: DUE,
      asks_per_due_coverage_max: Math.max(...asks),
    });
    expect(t.lost).toBe(0);
    expect(t.pushedTwice).toBe(0);
    expect(closures.every((n) => n === 1)).toBe(true);
    expect(shares[0] + shares[1]).toBe(N);
    expect(shares.every((s) => s > 0)).toBe(true);
    expect(leaders.filter((l) => l === true)).toHaveLength(1);
    expect(asks).toEqual(due.map(() => 1));
  }, 120000);
});
