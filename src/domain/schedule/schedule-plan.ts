import { Duration } from 'luxon';
import { setBounded } from '../bounded-map';
import { addPeriodMs, checkPeriod, isValidZone, periodMillis, type PeriodBounds } from './period';
import type { CoverageScheduleInput, ScheduleIssue, SchedulePlan, SchedulePolicy, ScheduleStatus } from './schedule-types';

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

export interface Effective {
  period: Duration;
  iso: string;
  issue?: ScheduleIssue;
}

function parseEffective(
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

/** Distinct periodicity / duration texts remembered per policy (deployments use a handful). */
const MAX_REMEMBERED = 1000;
const NONE = '\u0000none';
const remembered = new WeakMap<SchedulePolicy, Record<'periodicity' | 'duration', Map<string, Effective>>>();

/**
 * The period a coverage's text stands for under `policy`, parsed once per distinct text: planning
 * 100,000 coverages parsed the same few texts 100,000 times (most of a reconciliation's CPU and
 * garbage). Results are shared between plans and never modified.
 */
function effectivePeriod(value: string | null | undefined, field: 'periodicity' | 'duration', policy: SchedulePolicy): Effective {
  let memo = remembered.get(policy);
  if (!memo) {
    memo = { periodicity: new Map(), duration: new Map() };
    remembered.set(policy, memo);
  }
  const key = value ?? NONE;
  const known = memo[field].get(key);
  if (known) return known;
  const effective =
    field === 'periodicity'
      ? parseEffective(value, field, periodicityBounds(policy), policy.defaultPeriodicity)
      : parseEffective(value, field, { max: policy.maxDuration, maxName: 'scheduler.max_duration' }, policy.defaultDuration);
  return setBounded(memo[field], key, effective, MAX_REMEMBERED);
}

/**
 * The periodicity the scheduler plans with: the coverage's own when valid, else the default. The worker
 * passes it to `validityWindow` so valid_to is exactly the next planned run.
 */
export function effectivePeriodicity(periodicity: string | null | undefined, policy: SchedulePolicy): string {
  return effectivePeriod(periodicity, 'periodicity', policy).iso;
}

/** What planning reads of a coverage, times as epoch ms (the scheduler keeps its coverages in this shape). */
export interface ScheduleFacts {
  createdAt: number;
  periodicity?: string | null;
  duration?: string | null;
  lastResultAt?: number;
  lastTriggeredAt?: number;
  manual?: boolean;
}

/** A plan's status and times (epoch ms); `planCoverage` dresses it as a SchedulePlan. */
export interface PlanTimes {
  status: ScheduleStatus;
  periodicity: Effective;
  duration: Effective;
  firstRunAt: number;
  lastRunAt?: number;
  endsAt: number;
  nextRunAt?: number;
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
export function planTimes(facts: ScheduleFacts, policy: SchedulePolicy, now: number): PlanTimes {
  const periodicity = effectivePeriod(facts.periodicity, 'periodicity', policy);
  const duration = effectivePeriod(facts.duration, 'duration', policy);
  const { createdAt, lastResultAt, lastTriggeredAt } = facts;
  const firstRunAt = lastResultAt !== undefined && lastResultAt < createdAt ? lastResultAt : createdAt;
  const endsAt = addPeriodMs(firstRunAt, duration.period, policy.zone);
  const lastRunAt = lastResultAt === undefined || (lastTriggeredAt !== undefined && lastTriggeredAt > lastResultAt) ? lastTriggeredAt : lastResultAt;
  const times: PlanTimes = { status: 'manual', periodicity, duration, firstRunAt, lastRunAt, endsAt };
  if (facts.manual) return times;

  if (lastTriggeredAt !== undefined && (lastResultAt === undefined || lastTriggeredAt > lastResultAt)) {
    const waitUntil = addPeriodMs(lastTriggeredAt, policy.runTimeout, policy.zone);
    if (now < waitUntil) {
      times.status = 'running';
      times.nextRunAt = waitUntil;
      return times;
    }
  }

  let next: number;
  if (lastRunAt !== undefined) {
    next = addPeriodMs(lastRunAt, periodicity.period, policy.zone);
  } else {
    const grace = periodMillis(policy.firstRunGrace) < periodMillis(periodicity.period) ? policy.firstRunGrace : periodicity.period;
    next = addPeriodMs(firstRunAt, grace, policy.zone);
  }
  // No run at or after the end, including one that was owed while nobody scheduled (replicas down).
  if (next >= endsAt || now >= endsAt) {
    times.status = 'finished';
    return times;
  }
  times.status = next <= now ? 'due' : 'scheduled';
  times.nextRunAt = next;
  return times;
}

/** `planTimes` of a coverage as read from the platform, with its identity, effective periods, issues and dates. */
export function planCoverage(input: CoverageScheduleInput, policy: SchedulePolicy, now: Date): SchedulePlan {
  const facts: ScheduleFacts = {
    createdAt: input.createdAt.getTime(),
    periodicity: input.periodicity,
    duration: input.duration,
    lastResultAt: input.lastResultAt?.getTime(),
    lastTriggeredAt: input.lastTriggeredAt?.getTime(),
    manual: input.manual,
  };
  const t = planTimes(facts, policy, now.getTime());
  const issues: ScheduleIssue[] = [];
  if (t.periodicity.issue) issues.push(t.periodicity.issue);
  if (t.duration.issue) issues.push(t.duration.issue);
  const plan: SchedulePlan = {
    id: input.id,
    standardId: input.standardId,
    name: input.name,
    periodicity: t.periodicity.iso,
    duration: t.duration.iso,
    issues,
    firstRunAt: new Date(t.firstRunAt),
    lastRunAt: t.lastRunAt === undefined ? undefined : new Date(t.lastRunAt),
    endsAt: new Date(t.endsAt),
    remainingMs: Math.max(0, t.endsAt - now.getTime()),
    status: t.status,
  };
  if (t.nextRunAt !== undefined) plan.nextRunAt = new Date(t.nextRunAt);
  return plan;
}
