import { backoffDelay, isAbortError, sleep } from '../../src/retry';

describe('the one sleep', () => {
  it('waits, then resolves', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('ends as soon as the signal fires, with an AbortError, also when it fired before', async () => {
    const ctl = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, ctl.signal);
    setTimeout(() => ctl.abort(), 10);
    const err = await waiting.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isAbortError(await sleep(60_000, ctl.signal).catch((e: unknown) => e))).toBe(true);
    expect(isAbortError(new Error('other'))).toBe(false);
  });
});

describe('the one backoff', () => {
  it('doubles from base, jitters the upper half, never exceeds max', () => {
    const b = (random: number) => ({ backoffBaseMs: 100, backoffMaxMs: 1000, random: () => random });
    expect([1, 2, 3, 4, 5, 30].map((a) => backoffDelay(a, b(1)))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3].map((a) => backoffDelay(a, b(0)))).toEqual([50, 100, 200]);
    const r = backoffDelay(3, { backoffBaseMs: 100, backoffMaxMs: 1000 });
    expect(r).toBeGreaterThanOrEqual(200);
    expect(r).toBeLessThanOrEqual(400);
  });
});
