import { Registry } from 'prom-client';
import { createLogger } from '../../src/app/logger';
import { createPlatformBreaker, registerBreakerMetrics, type BreakerSnapshot } from '../../src/app/platform-breaker';
import { PlatformAuthError, PlatformRejectedError, PlatformUnavailableError } from '../../src/errors';

/** The platform circuit breaker's state machine, with a scripted probe. */

function breaker(probeResults: Array<Error | null>, threshold = 3) {
  const changes: BreakerSnapshot[] = [];
  let probes = 0;
  const b = createPlatformBreaker({
    failureThreshold: threshold,
    probe: async () => {
      const r = probeResults[Math.min(probes, probeResults.length - 1)];
      probes += 1;
      if (r) throw r;
    },
    probeBackoff: { backoffBaseMs: 10, backoffMaxMs: 40, random: () => 0.5 },
    log: createLogger('silent'),
  });
  b.onChange((s) => changes.push(s));
  return { b, changes, probes: () => probes };
}

const closedAgain = (b: ReturnType<typeof createPlatformBreaker>): Promise<void> =>
  new Promise((resolve) => {
    if (b.state === 'closed') return resolve();
    const off = b.onChange((s) => {
      if (s.state === 'closed') {
        off();
        resolve();
      }
    });
  });

describe('platform circuit breaker', () => {
  const down = new PlatformUnavailableError('ECONNREFUSED');

  it('opens after the threshold of platform-wide failures in a row; an answer in between resets the count', async () => {
    const { b } = breaker([null]);
    b.settle(down, false);
    b.settle(down, false);
    b.settle(new PlatformRejectedError('Invalid bundle'), false); // the platform answered
    b.settle(down, false);
    b.settle(down, false);
    expect(b.state).toBe('closed');
    b.settle(down, false);
    expect(b.snapshot()).toMatchObject({ state: 'open', cause: 'unavailable', code: 'PLATFORM_UNAVAILABLE', trips: 1 });
    expect(() => b.admit('CoverageState', false)).toThrow(expect.objectContaining({ code: 'PLATFORM_CIRCUIT_OPEN' }));
    expect(() => b.admit('PlatformProbe', true)).not.toThrow();
    await closedAgain(b);
    b.close();
  });

  it('opens at once on a rejected token, names OPENCTI_TOKEN, and probes with growing delays until the token works', async () => {
    const auth = new PlatformAuthError('AUTH_REQUIRED');
    const { b, changes, probes } = breaker([auth, auth, null]);
    b.settle(auth, false);
    expect(b.snapshot()).toMatchObject({ state: 'open', cause: 'auth' });
    expect(() => b.admit('WorkToReceived', false)).toThrow(/OPENCTI_TOKEN rejected/);
    await closedAgain(b);
    expect(probes()).toBe(3);
    expect(changes.map((c) => c.state)).toEqual(['open', 'half-open', 'open', 'half-open', 'open', 'half-open', 'closed']);
    expect(changes.filter((c) => c.state === 'open').map((c) => c.failedProbes)).toEqual([0, 1, 2]);
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, trips: 1 });
    b.close();
  });

  it('ignores late failures of calls sent before the trip, and exposes its state on /metrics', async () => {
    const { b } = breaker([down, null], 1);
    const registry = new Registry();
    registerBreakerMetrics(registry, b);
    b.settle(down, false);
    b.settle(down, false);
    expect(b.snapshot().trips).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/coverage_connector_platform_circuit_state [12]/);
    expect(text).toMatch(/coverage_connector_platform_circuit_opened_total\{cause="unavailable"\} 1/);
    await closedAgain(b);
    expect(await registry.metrics()).toMatch(/coverage_connector_platform_circuit_state 0/);
    b.close();
  });
});
