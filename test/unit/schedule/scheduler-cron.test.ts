import { Writable } from 'node:stream';
import { createLogger } from '../../../src/app/logger';
import { startSchedulerCron, systemClock, type Scheduler, type TickResult } from '../../../src/app/scheduler/scheduler';

describe('scheduler cron task', () => {
  it("logs node-cron's overlap notice through our logger at debug, never on the console", async () => {
    const lines: Array<{ level: number; msg: string; source?: string }> = [];
    const log = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }) as never);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    let release: () => void = () => undefined;
    let ticks = 0;
    // A tick that outlasts the one-second period: the next second's run is skipped (noOverlap).
    const scheduler = {
      tick: () => {
        ticks += 1;
        return new Promise<TickResult>((resolve) => (release = () => resolve({ started: [], failed: [], skipped: [] } as unknown as TickResult)));
      },
    } as unknown as Scheduler;
    const task = startSchedulerCron(scheduler, '* * * * * *', systemClock, log);
    try {
      const deadline = Date.now() + 5000;
      while (!lines.some((l) => l.source === 'node-cron') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      release();
      await task.stop();
      warn.mockRestore();
    }
    expect(ticks).toBe(1);
    expect(lines.find((l) => l.source === 'node-cron')).toMatchObject({ level: 20, msg: expect.stringMatching(/overlap prevention/) });
    expect(warn).not.toHaveBeenCalled();
  });
});
