import { DateTime, Duration } from 'luxon';

/**
 * The validity window written on every result: last_result = valid_from = run time,
 * valid_to = next planned run (run time + periodicity). Calendar units (P1D, P1M) are added in
 * `zone` so a day stays a day across DST changes.
 */
export interface ValidityWindow {
  lastResult: string;
  validFrom: string;
  validTo?: string;
}

export function validityWindow(runAt: Date, periodicity: string | undefined, zone = 'UTC'): ValidityWindow {
  const iso = runAt.toISOString();
  if (!periodicity) return { lastResult: iso, validFrom: iso };
  const period = Duration.fromISO(periodicity);
  if (!period.isValid || period.toMillis() <= 0) return { lastResult: iso, validFrom: iso };
  const next = DateTime.fromJSDate(runAt, { zone }).plus(period);
  return { lastResult: iso, validFrom: iso, validTo: next.toUTC().toISO() ?? undefined };
}
