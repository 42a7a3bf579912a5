import { DateTime, Duration } from 'luxon';
import { addPeriod, addPeriodMs, checkPeriod, formatSpan } from '../../../src/domain/schedule/period';

const at = (iso: string): Date => new Date(iso);
const plus = (from: string, period: string, zone = 'UTC'): string => {
  const check = checkPeriod(period);
  if (!check.ok) throw new Error(check.reason);
  return addPeriod(at(from), check.period, zone).toISOString();
};

describe('checkPeriod', () => {
  it('reads PT30M as 30 minutes, not 30 months', () => {
    const c = checkPeriod('PT30M');
    expect(c.ok && c.period.toMillis()).toBe(30 * 60_000);
  });

  it('reads P1DT12H as one day and twelve hours', () => {
    const c = checkPeriod('P1DT12H');
    expect(c.ok && c.period.toObject()).toEqual({ days: 1, hours: 12 });
  });

  it('accepts lower-case input and surrounding spaces', () => {
    const c = checkPeriod(' p1w ');
    expect(c.ok && c.iso).toBe('P1W');
  });

  it.each([
    ['', 'unparseable'],
    ['1D', 'unparseable'],
    ['PT30X', 'unparseable'],
    ['daily', 'unparseable'],
    ['-P1D', 'negative'],
    ['P-1D', 'negative'],
    ['PT0S', 'zero'],
    ['P0D', 'zero'],
    ['P', 'zero'],
  ])('rejects %j as %s', (text, code) => {
    const c = checkPeriod(text);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.code).toBe(code);
  });

  it('rejects a period below the minimum and names the setting', () => {
    const c = checkPeriod('PT30S', { min: Duration.fromISO('PT1M'), minName: 'scheduler.min_periodicity' });
    expect(c).toEqual({ ok: false, code: 'too-short', reason: '"PT30S" is shorter than the minimum PT1M (scheduler.min_periodicity)' });
  });

  it('rejects a period above the maximum and names the setting', () => {
    const c = checkPeriod('P10Y', { max: Duration.fromISO('P5Y'), maxName: 'scheduler.max_duration' });
    expect(c).toEqual({ ok: false, code: 'too-long', reason: '"P10Y" is longer than the maximum P5Y (scheduler.max_duration)' });
  });

  it('accepts the bounds themselves', () => {
    const bounds = { min: Duration.fromISO('PT1M'), max: Duration.fromISO('P5Y') };
    expect(checkPeriod('PT1M', bounds).ok).toBe(true);
    expect(checkPeriod('P5Y', bounds).ok).toBe(true);
  });
});

describe('addPeriod', () => {
  it('adds PT30M as 30 minutes', () => {
    expect(plus('2026-01-15T10:00:00Z', 'PT30M')).toBe('2026-01-15T10:30:00.000Z');
  });

  it('adds P1M from Jan 31 to the last day of February', () => {
    expect(plus('2026-01-31T10:00:00Z', 'P1M')).toBe('2026-02-28T10:00:00.000Z');
  });

  it('adds P1M from Jan 31 to Feb 29 in a leap year', () => {
    expect(plus('2028-01-31T10:00:00Z', 'P1M')).toBe('2028-02-29T10:00:00.000Z');
  });

  it('keeps the wall-clock time with P1D over the spring DST change in Europe/Paris (23 h day)', () => {
    // 2026-03-28 09:00 CET (UTC+1) → 2026-03-29 09:00 CEST (UTC+2)
    expect(plus('2026-03-28T08:00:00Z', 'P1D', 'Europe/Paris')).toBe('2026-03-29T07:00:00.000Z');
  });

  it('keeps the wall-clock time with P1D over the autumn DST change in Europe/Paris (25 h day)', () => {
    // 2026-10-24 09:00 CEST (UTC+2) → 2026-10-25 09:00 CET (UTC+1)
    expect(plus('2026-10-24T07:00:00Z', 'P1D', 'Europe/Paris')).toBe('2026-10-25T08:00:00.000Z');
  });

  it('adds PT24H as exactly 24 hours even on a DST day', () => {
    expect(plus('2026-03-28T08:00:00Z', 'PT24H', 'Europe/Paris')).toBe('2026-03-29T08:00:00.000Z');
  });

  it('adds P1D as 24 hours in UTC', () => {
    expect(plus('2026-03-28T08:00:00Z', 'P1D')).toBe('2026-03-29T08:00:00.000Z');
  });

  it('adds P1W as seven calendar days, keeping the local time across DST', () => {
    expect(plus('2026-03-25T08:00:00Z', 'P1W', 'Europe/Paris')).toBe('2026-04-01T07:00:00.000Z');
  });

  it('adds P1DT12H as one calendar day then twelve hours', () => {
    expect(plus('2026-01-15T10:00:00Z', 'P1DT12H')).toBe('2026-01-16T22:00:00.000Z');
  });
});

describe('formatSpan', () => {
  it.each([
    [0, '0m'],
    [-5, '0m'],
    [12 * 60_000, '12m'],
    [(5 * 60 + 30) * 60_000, '5h 30m'],
    [2 * 3600_000, '2h'],
    [(29 * 24 + 23) * 3600_000, '29d 23h'],
    [3 * 86400_000, '3d'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});

describe('addPeriod without luxon objects (time parts anywhere, whole calendar parts in UTC)', () => {
  const periods = ['PT1H', 'PT30M', 'PT0.0005S', 'PT1.5H', 'P1D', 'P7D', 'P1W2D', 'P400D', 'P1.5D', 'P1M', 'P13M', 'P0.5M', 'P1Y', 'P5Y', 'P1DT12H', 'P1Y2M3DT4H5M6.5S'];
  const zones = ['UTC', 'utc', 'Europe/Paris', 'America/New_York', 'Etc/UTC'];
  // Month ends, leap days, DST changes, and a spread of ordinary instants over 70 years.
  const instants = [
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].flatMap((m) => [28, 29, 30, 31].map((d) => Date.UTC(2024, m, d, 13, 5, 7, 123))),
    Date.UTC(2026, 2, 29, 0, 30),
    Date.UTC(2026, 9, 25, 0, 30),
    ...Array.from({ length: 60 }, (_, i) => Date.UTC(1990, 0, 1) + i * 37_012_345_678),
  ];

  it('gives exactly the instant luxon gives', () => {
    const mismatches: string[] = [];
    for (const text of periods) {
      const period = Duration.fromISO(text);
      for (const zone of zones) {
        for (const at of instants) {
          const expected = DateTime.fromJSDate(new Date(at), { zone }).plus(period).toMillis();
          if (addPeriodMs(at, period, zone) !== expected) mismatches.push(`${new Date(at).toISOString()} + ${text} in ${zone}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('keeps an invalid date invalid', () => {
    expect(Number.isNaN(addPeriodMs(Number.NaN, Duration.fromISO('P1M'), 'UTC'))).toBe(true);
    expect(Number.isNaN(addPeriodMs(Number.NaN, Duration.fromISO('PT1H'), 'UTC'))).toBe(true);
  });

  it('reads quarters as three months', () => {
    const at = Date.UTC(2026, 0, 31, 10);
    expect(new Date(addPeriodMs(at, Duration.fromObject({ quarters: 1 }), 'UTC')).toISOString()).toBe('2026-04-30T10:00:00.000Z');
  });
});
