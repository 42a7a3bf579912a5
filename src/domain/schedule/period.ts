import { DateTime, Duration, IANAZone } from 'luxon';

/**
 * ISO-8601 periods (`periodicity`, `duration`) parsed with luxon, never with a home-made regex:
 * the reference product read `PT30M` as 30 months and `P1DT12H` as one day.
 */

export type PeriodRejection = 'unparseable' | 'negative' | 'zero' | 'too-short' | 'too-long';

export type PeriodCheck =
  | { ok: true; period: Duration; iso: string }
  | { ok: false; code: PeriodRejection; reason: string };

export interface PeriodBounds {
  /** Shortest accepted period (inclusive); absent = anything above zero. */
  min?: Duration;
  /** Longest accepted period (inclusive). */
  max?: Duration;
  /** How the bounds are named in reasons, e.g. `scheduler.min_periodicity`. */
  minName?: string;
  maxName?: string;
}

/**
 * Parses `text` as an ISO-8601 duration and checks it against `bounds`. Months and years are
 * compared with luxon's casual lengths (1 month = 30 days, 1 year = 365 days), which is enough to
 * reject absurd values; scheduling itself adds calendar units exactly (see `addPeriod`).
 */
export function checkPeriod(text: string, bounds: PeriodBounds = {}): PeriodCheck {
  const raw = text.trim();
  const period = Duration.fromISO(raw.toUpperCase());
  if (!period.isValid || raw === '') {
    return { ok: false, code: 'unparseable', reason: `"${text}" is not an ISO-8601 duration (examples: PT30M, PT6H, P1D, P1W, P1M, P1DT12H)` };
  }
  const parts = Object.values(period.toObject()) as number[];
  if (raw.startsWith('-') || parts.some((v) => v < 0)) {
    return { ok: false, code: 'negative', reason: `"${text}" is negative` };
  }
  const millis = period.toMillis();
  if (millis <= 0) return { ok: false, code: 'zero', reason: `"${text}" is zero` };
  if (bounds.min && millis < bounds.min.toMillis()) {
    return {
      ok: false,
      code: 'too-short',
      reason: `"${text}" is shorter than the minimum ${bounds.min.toISO()}${bounds.minName ? ` (${bounds.minName})` : ''}`,
    };
  }
  if (bounds.max && millis > bounds.max.toMillis()) {
    return {
      ok: false,
      code: 'too-long',
      reason: `"${text}" is longer than the maximum ${bounds.max.toISO()}${bounds.maxName ? ` (${bounds.maxName})` : ''}`,
    };
  }
  return { ok: true, period, iso: period.toISO() ?? raw.toUpperCase() };
}

/**
 * `at + period`, calendar parts (years, months, weeks, days) added in `zone` so `P1D` keeps the
 * wall-clock time across a DST change and `P1M` from Jan 31 lands on the last day of February;
 * time parts (`PT12H`) are exact elapsed time.
 */
export function addPeriod(at: Date, period: Duration, zone: string): Date {
  return new Date(addPeriodMs(at.getTime(), period, zone));
}

/**
 * `addPeriod` on epoch milliseconds. Time-only periods, and whole calendar parts in UTC, are the same
 * arithmetic as luxon's `plus` done on numbers: a DateTime per addition cost ~10 µs and kilobytes of
 * garbage, and the scheduler plans every coverage on every reconciliation.
 */
export function addPeriodMs(at: number, period: Duration, zone: string): number {
  const length = lengthOf(period);
  if (!length.calendar) return at + length.timeMillis;
  if (length.wholeCalendar && isUtc(zone)) return addCalendarUtc(at, length) + length.timeMillis;
  return DateTime.fromJSDate(new Date(at), { zone }).plus(period).toMillis();
}

interface Length {
  /** `period.toMillis()` (months and years at luxon's casual lengths). */
  millis: number;
  /** Any years, quarters, months, weeks or days. */
  calendar: boolean;
  /** Calendar parts are whole numbers (luxon adds fractions of them as elapsed time). */
  wholeCalendar: boolean;
  years: number;
  /** Months and quarters, in months. */
  months: number;
  /** Days and weeks, in days. */
  days: number;
  /** The time parts (hours … milliseconds) as elapsed milliseconds. */
  timeMillis: number;
}

/** Per Duration object: the scheduler parses each distinct period text once (see schedule-plan) and reuses it. */
const lengths = new WeakMap<Duration, Length>();

function lengthOf(period: Duration): Length {
  let length = lengths.get(period);
  if (!length) {
    const { years, quarters, months, weeks, days, hours, minutes, seconds, milliseconds } = period;
    const parts = [years, quarters, months, weeks, days];
    length = {
      millis: period.toMillis(),
      calendar: parts.some((v) => v !== 0),
      wholeCalendar: parts.every((v) => Number.isInteger(v)),
      years,
      months: months + quarters * 3,
      days: days + weeks * 7,
      // luxon's own expression for the time it adds after moving the calendar.
      timeMillis: Duration.fromObject({ hours, minutes, seconds, milliseconds }).as('milliseconds'),
    };
    lengths.set(period, length);
  }
  return length;
}

/** `period.toMillis()`, computed once per Duration object. */
export const periodMillis = (period: Duration): number => lengthOf(period).millis;

/** luxon's calendar step in a zone without offsets: month end clamped first (Jan 31 + P1M = Feb 28), then days. */
function addCalendarUtc(at: number, length: Length): number {
  const d = new Date(at);
  const year = d.getUTCFullYear() + length.years;
  const month = d.getUTCMonth() + length.months; // 0-based, may run past December
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month)) + length.days;
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

function daysInMonth(year: number, month0: number): number {
  const m = ((month0 % 12) + 12) % 12;
  const y = year + (month0 - m) / 12;
  if (m === 1) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m];
}

const isUtc = (zone: string): boolean => zone === 'UTC' || zone.toLowerCase() === 'utc';

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone) || zone.toUpperCase() === 'UTC';
}

/** Compact human span for listings: `29d 23h`, `5h 30m`, `12m`, `0m`. */
export function formatSpan(ms: number): string {
  if (ms <= 0) return '0m';
  const minutes = Math.floor(ms / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return mins > 0 ? `${hours}h ${mins}m` : `${hours}h`;
  return `${mins}m`;
}
