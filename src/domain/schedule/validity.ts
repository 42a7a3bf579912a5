import { Duration } from 'luxon';
import { setBounded } from '../bounded-map';
import { addPeriod, checkPeriod, type PeriodBounds, type PeriodCheck } from './period';

/**
 * The validity window written on every result: last_result = valid_from = run time,
 * valid_to = next planned run (run time + periodicity) — the same arithmetic as the scheduler
 * (`addPeriod`), so valid_to is exactly when the next run is planned. Calendar units (P1D, P1M)
 * are added in `zone` so a day stays a day across DST changes; PT30M is 30 minutes.
 */
export interface ValidityWindow {
  lastResult: string;
  validFrom: string;
  validTo?: string;
}

/** `scheduler.min_periodicity` / `scheduler.max_duration`, as ISO strings. */
export interface ValidityBounds {
  minPeriodicity?: string;
  maxDuration?: string;
}

/**
 * `periodicity` missing, unparseable, zero or negative (or outside `bounds`) → `fallbackPeriodicity`
 * (pass the scheduler's `default_periodicity` and bounds: the scheduler plans with exactly that, so
 * valid_to = next planned run); no usable period at all → no `validTo`.
 */
export function validityWindow(
  runAt: Date,
  periodicity: string | undefined,
  zone = 'UTC',
  fallbackPeriodicity?: string,
  bounds: ValidityBounds = {},
): ValidityWindow {
  const iso = runAt.toISOString();
  const window: ValidityWindow = { lastResult: iso, validFrom: iso };
  for (const [candidate, candidateBounds] of [
    [periodicity, bounds],
    [fallbackPeriodicity, {}],
  ] as const) {
    if (!candidate) continue;
    const check = checkedPeriod(candidate, candidateBounds);
    if (!check.ok) continue;
    const next = addPeriod(runAt, check.period, zone);
    if (Number.isNaN(next.getTime())) return window;
    return { ...window, validTo: next.toISOString() };
  }
  return window;
}

/** Checked periods by text and bounds: every run writes a window, and parsing ISO durations with luxon is most of its cost. */
const checkedPeriods = new Map<string, PeriodCheck>();
const CHECKED_PERIODS_KEPT = 256;

function checkedPeriod(text: string, bounds: ValidityBounds): PeriodCheck {
  const key = `${text}\n${bounds.minPeriodicity ?? ''}\n${bounds.maxDuration ?? ''}`;
  const known = checkedPeriods.get(key);
  if (known) return known;
  const limits: PeriodBounds = {};
  if (bounds.minPeriodicity) limits.min = Duration.fromISO(bounds.minPeriodicity);
  if (bounds.maxDuration) limits.max = Duration.fromISO(bounds.maxDuration);
  return setBounded(checkedPeriods, key, checkPeriod(text, limits), CHECKED_PERIODS_KEPT);
}
