import { Duration } from 'luxon';
import { addPeriod, checkPeriod, isValidZone, type PeriodBounds } from './period';
import type { CoverageScheduleInput, ScheduleIssue, SchedulePlan, SchedulePolicy } from './schedule-types';

/** The `scheduler.*` config keys the policy is built from (a subset of the config section). */
export interface ScheduleSettings {
  default_periodicity: string;
  default_duration: string;
  min_periodicity: string;
  max_duration: string;
  timezone: string;
  first_run_grace: string;
  run_timeout: string;
}

export type PolicyResult = { ok: true; policy: SchedulePolicy } | { ok: false; errors: Array<{ key: keyof ScheduleSettings; reason: string }> };

/** Validates the settings once at startup; each error names its key so the caller can name the variable. */
export function schedulePolicyFrom(settings: ScheduleSettings): PolicyResult {
  const errors: Array<{ key: keyof ScheduleSettings; reason: string }> = [];
  const parse = (key: keyof ScheduleSettings, bounds: PeriodBounds = {}): Duration => {
    const check = checkPeriod(settings[key], bounds);
    if (check.ok) return check.period;
    errors.push({ key, reason: check.reason });
    return Duration.fromMillis(60000);
  };
  const minPeriodicity = parse('min_periodicity');
  const maxDuration = parse('max_duration');
  if (errors.length === 0 && maxDuration.toMillis() < minPeriodicity.toMillis()) {
    errors.push({ key: 'max_duration', reason: `${settings.max_duration} is shorter than min_periodicity ${settings.min_periodicity}` });
  }
  const bounds = errors.length === 0 ? { min: minPeriodicity, max: maxDuration, minName: 'min_periodicity', maxName: 'max_duration' } : {};
  const defaultPeriodicity = parse('default_periodicity', bounds);
  const defaultDuration = parse('default_duration', errors.length === 0 ? { max: maxDuration, maxName: 'max_duration' } : {});
  const firstRunGrace = parse('first_run_grace');
  const runTimeout = parse('run_timeout');
  if (!isValidZone(settings.timezone)) errors.push({ key: 'timezone', reason: `"${settings.timezone}" is not an IANA time zone (e.g. UTC, Europe/Paris)` });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    policy: { defaultPeriodicity, defaultDuration, minPeriodicity, maxDuration, zone: settings.timezone, firstRunGrace, runTimeout },
  };
}

interface Effective {
  period: Duration;
  iso: string;
  issue?: ScheduleIssue;
}

function effectivePeriod(
  value: string | null | undefined,
  field: 'periodicity' | 'duration',
  bounds: PeriodBounds,
  fallback: Duration,
): Effective {
  const fallbackIso = fallback.toISO() ?? '';
  if (value === undefined || value === null || value.trim() === '') {
    return { period: fallback, iso: fallbackIso, issue: { code: `default-${field}`, reason: `no ${field}; using the default ${fallbackIso}` } };
  }
  const check = checkPeriod(value, bounds);
  if (check.ok) return { period: check.period, iso: check.iso };
  return {
    period: fallback,
    iso: fallbackIso,
    issue: { code: `invalid-${field}`, reason: `${field} ${check.reason}; using the default ${fallbackIso}` },
  };
}

const periodicityBounds = (policy: SchedulePolicy): PeriodBounds => ({
  min: policy.minPeriodicity,
  max: policy.maxDuration,
  minName: 'scheduler.min_periodicity',
  maxName: 'scheduler.max_duration',
});

/**
 * The periodicity the scheduler plans with: the coverage's own when valid, else the default. The worker
 * passes it to `validityWindow` so valid_to is exactly the next planned run.
 */
export function effectivePeriodicity(periodicity: string | null | undefined, policy: SchedulePolicy): string {
  return effectivePeriod(periodicity, 'periodicity', periodicityBounds(policy), policy.defaultPeriodicity).iso;
}

function latest(...dates: Array<Date | null | undefined>): Date | undefined {
  let best: Date | undefined;
  for (const d of dates) if (d && (!best || d.getTime() > best.getTime())) best = d;
  return best;
}

/**
 * Where one coverage stands at `now`:
 * - first run = the earlier of its creation and its last result (the platform keeps only the latest
 *   result, and the creation fires the first enrichment);
 * - last run = the later of the last result and the last started run (a started run counts, so a
 *   failed run is not retried in a loop and a run in flight is never doubled);
 * - next run = last run + periodicity, or creation + min(first_run_grace, periodicity) without any run;
 * - runs happen while next run < first run + duration (and now < first run + duration); after that
 *   the coverage is finished.
 */
export function planCoverage(input: CoverageScheduleInput, policy: SchedulePolicy, now: Date): SchedulePlan {
  const periodicity = effectivePeriod(input.periodicity, 'periodicity', periodicityBounds(policy), policy.defaultPeriodicity);
  const duration = effectivePeriod(input.duration, 'duration', { max: policy.maxDuration, maxName: 'scheduler.max_duration' }, policy.defaultDuration);
  const issues = [periodicity.issue, duration.issue].filter((i): i is ScheduleIssue => i !== undefined);

  const lastResultAt = input.lastResultAt ?? undefined;
  const firstRunAt = lastResultAt && lastResultAt.getTime() < input.createdAt.getTime() ? lastResultAt : input.createdAt;
  const endsAt = addPeriod(firstRunAt, duration.period, policy.zone);
  const lastRunAt = latest(lastResultAt, input.lastTriggeredAt);
  const base = {
    id: input.id,
    standardId: input.standardId,
    name: input.name,
    periodicity: periodicity.iso,
    duration: duration.iso,
    issues,
    firstRunAt,
    lastRunAt,
    endsAt,
    remainingMs: Math.max(0, endsAt.getTime() - now.getTime()),
  };
  if (input.manual) return { ...base, status: 'manual' };

  const triggeredAt = input.lastTriggeredAt ?? undefined;
  if (triggeredAt && (!lastResultAt || triggeredAt.getTime() > lastResultAt.getTime())) {
    const waitUntil = addPeriod(triggeredAt, policy.runTimeout, policy.zone);
    if (now.getTime() < waitUntil.getTime()) return { ...base, status: 'running', nextRunAt: waitUntil };
  }

  let next: Date;
  if (lastRunAt) {
    next = addPeriod(lastRunAt, periodicity.period, policy.zone);
  } else {
    const grace = policy.firstRunGrace.toMillis() < periodicity.period.toMillis() ? policy.firstRunGrace : periodicity.period;
    next = addPeriod(firstRunAt, grace, policy.zone);
  }
  // No run at or after the end, including one that was owed while nobody scheduled (replicas down).
  if (next.getTime() >= endsAt.getTime() || now.getTime() >= endsAt.getTime()) return { ...base, status: 'finished' };
  return { ...base, status: next.getTime() <= now.getTime() ? 'due' : 'scheduled', nextRunAt: next };
}
