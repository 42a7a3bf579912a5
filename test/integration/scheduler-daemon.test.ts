import { noopObserver } from '../../src/app/job-observer';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { describeWithBroker } from '../support/env';

/** The scheduler inside the real daemon: fake platform + real broker, scheduled runs go through askEnrichment. */

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describeWithBroker('daemon: scheduled runs', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  function recordingObserver(): { observer: typeof noopObserver; dues: number[]; nextTick(): Promise<number> } {
    const dues: number[] = [];
    let waiters: Array<(n: number) => void> = [];
    return {
      dues,
      observer: {
        ...noopObserver,
        schedulerDue: (n: number) => {
          dues.push(n);
          const w = waiters;
          waiters = [];
          w.forEach((f) => f(n));
        },
      },
      nextTick: () => new Promise<number>((resolve) => waiters.push(resolve)),
    };
  }

  it('runs a due coverage through askEnrichment (a work on the platform), writes the validity window, and does not run it again after a restart', async () => {
    const now = Date.now();
    const { coverage } = h.reportCoverage(['T1059'], {
      created: new Date(now - 5 * DAY).toISOString(),
      lastResult: new Date(now - 2 * DAY).toISOString(),
      periodicity: 'PT6H',
      duration: 'P30D',
    });
    const first = recordingObserver();
    const daemon = await h.start({ config: { scheduler: { enabled: true, lock_heartbeat_seconds: 1 } }, daemon: { observer: first.observer } });
    // Leader → reconcile → the due coverage is asked for → the platform publishes → the worker pushes.
    await h.fake.until(() => coverage.lastResult && new Date(coverage.lastResult).getTime() > now - HOUR, 20000, 'the scheduled result');
    const asks = h.fake.callsOf('ScheduleAskEnrichment');
    expect(asks).toHaveLength(1);
    expect(asks[0].variables).toMatchObject({ connectorId: h.connectorId });
    const runAt = new Date(coverage.lastResult as string).getTime();
    expect(coverage.validFrom).toBe(coverage.lastResult);
    expect(new Date(coverage.validTo as string).getTime()).toBe(runAt + 6 * HOUR);
    await daemon.close();

    // Restart: the new leader reconciles from the platform and finds nothing due.
    const second = recordingObserver();
    const tick = second.nextTick();
    await h.start({ config: { scheduler: { enabled: true, lock_heartbeat_seconds: 1 } }, daemon: { observer: second.observer } });
    expect(await tick).toBe(0);
    expect(h.fake.callsOf('ScheduleAskEnrichment')).toHaveLength(1);
  }, 40000);
});
