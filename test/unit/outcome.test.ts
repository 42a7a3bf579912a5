import { decide, type RetryPolicy } from '../../src/app/outcome';
import { backoffDelay } from '../../src/retry';
import {
  AssessmentError,
  BrokerError,
  ConfigError,
  InvalidMessageError,
  LimitExceededError,
  PlatformAuthError,
  PlatformRejectedError,
  PlatformUnavailableError,
} from '../../src/errors';

const policy = (random = 0.5): RetryPolicy => ({ maxAttempts: 4, backoffBaseMs: 100, backoffMaxMs: 1000, random: () => random });

describe('decide', () => {
  it('returns done when the attempt did not fail', () => {
    expect(decide(undefined, 1, policy())).toEqual({ kind: 'done' });
    expect(decide(null, 3, policy())).toEqual({ kind: 'done' });
  });

  it.each([
    [new InvalidMessageError('bad body'), 'MESSAGE_INVALID'],
    [new AssessmentError('no patterns', 'NO_ATTACK_PATTERNS'), 'NO_ATTACK_PATTERNS'],
    [new PlatformAuthError('401'), 'PLATFORM_AUTH'],
    [new PlatformRejectedError('Invalid bundle'), 'PLATFORM_REJECTED'],
    [new LimitExceededError('too big'), 'LIMIT_EXCEEDED'],
    [new ConfigError('bad'), 'CONFIG_INVALID'],
  ])('dead-letters a permanent error at the first attempt (%s)', (err, code) => {
    expect(decide(err, 1, policy())).toEqual({ kind: 'deadLetter', code, reason: err.message });
  });

  it('retries a transient error with a growing delay until max attempts, then dead-letters', () => {
    const err = new PlatformUnavailableError('HTTP 502');
    expect(decide(err, 1, policy())).toMatchObject({ kind: 'retry', code: 'PLATFORM_UNAVAILABLE', delayMs: 75 });
    expect(decide(err, 2, policy())).toMatchObject({ kind: 'retry', delayMs: 150 });
    expect(decide(err, 3, policy())).toMatchObject({ kind: 'retry', delayMs: 300 });
    expect(decide(err, 4, policy())).toEqual({ kind: 'deadLetter', code: 'PLATFORM_UNAVAILABLE', reason: 'gave up after 4 attempt(s): HTTP 502' });
    expect(decide(new BrokerError('channel closed'), 1, policy())).toMatchObject({ kind: 'retry', code: 'BROKER_UNAVAILABLE' });
  });

  it('decides on code and retryable, not only instanceof (errors from another module copy)', () => {
    const lookalike = Object.assign(new Error('backend down'), { code: 'OPENAEV_UNREACHABLE', retryable: true });
    expect(decide(lookalike, 1, policy())).toMatchObject({ kind: 'retry', code: 'OPENAEV_UNREACHABLE' });
    const permanent = Object.assign(new Error('refused'), { code: 'SIEM_AUTH', retryable: false });
    expect(decide(permanent, 1, policy())).toEqual({ kind: 'deadLetter', code: 'SIEM_AUTH', reason: 'refused' });
  });

  it('treats unknown errors as UNEXPECTED: retried, then dead-lettered', () => {
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(decide(err, 1, policy())).toMatchObject({ kind: 'retry', code: 'UNEXPECTED' });
    expect(decide(new TypeError('x is undefined'), 4, policy())).toMatchObject({ kind: 'deadLetter', code: 'UNEXPECTED' });
    expect(decide('a string', 1, policy())).toMatchObject({ kind: 'retry', code: 'UNEXPECTED', reason: 'a string' });
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt and never exceeds the cap', () => {
    const p = policy(0.999999);
    const delays = [1, 2, 3, 4, 5, 6, 10, 40].map((a) => backoffDelay(a, p));
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(delays.at(-1)).toBe(1000);
  });

  it('keeps at least half of the step whatever the jitter (never collapses to 0)', () => {
    expect(backoffDelay(1, policy(0))).toBe(50);
    expect(backoffDelay(20, policy(0))).toBe(500);
  });

  it('spreads retries of the same attempt across the jitter range', () => {
    const values = [0, 0.25, 0.5, 0.75].map((r) => backoffDelay(3, policy(r)));
    expect(new Set(values).size).toBe(4);
    expect(values.every((v) => v >= 200 && v <= 400)).toBe(true);
  });
});
