import { effectivePeriodicity, planCoverage, planTimes, schedulePolicyFrom } from '../../../src/domain/schedule/schedule-plan';
import type { CoverageScheduleInput } from '../../../src/domain/schedule/schedule-types';
import { DEFAULT_SCHEDULE_SETTINGS, testSchedulePolicy } from '../../support/schedule-policy';

const t = (iso: string): Date => new Date(iso);
const coverage = (extra: Partial<CoverageScheduleInput> = {}): CoverageScheduleInput => ({
  id: 'c1',
  standardId: 'security-coverage--1',
  createdAt: t('2026-01-01T00:00:00Z'),
  periodicity: 'P1D',
  duration: 'P30D',
  ...extra,
});

describe('schedulePolicyFrom', () => {
  it('builds the policy from valid settings', () => {
    const r = schedulePolicyFrom(DEFAULT_SCHEDULE_SETTINGS);
    expect(r.ok).toBe(true);
  });

  it('names every invalid key with its reason', () => {
    const r = schedulePolicyFrom({ ...DEFAULT_SCHEDULE_SETTINGS, default_periodicity: 'PT10S', timezone: 'Mars/Olympus', run_timeout: 'soon' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.key)).toEqual(['default_periodicity', 'run_timeout', 'timezone']);
    expect(!r.ok && r.errors[0].reason).toBe('"PT10S" is shorter than the minimum PT1M (min_periodicity)');
  });

  it('rejects a maximum shorter than the minimum', () => {
    const r = schedulePolicyFrom({ ...DEFAULT_SCHEDULE_SETTINGS, min_periodicity: 'P1D', max_duration: 'PT1H' });
    expect(!r.ok && r.errors[0]).toEqual({ key: 'max_duration', reason: 'PT1H is shorter than min_periodicity P1D' });
  });

  it('rejects a default duration above the maximum', () => {
    const r = schedulePolicyFrom({ ...DEFAULT_SCHEDULE_SETTINGS, default_duration: 'P6Y' });
    expect(!r.ok && r.errors.map((e) => e.key)).toEqual(['default_duration']);
  });
});

describe('planCoverage', () => {
  const p = testSchedulePolicy();

  it('plans the next run one periodicity after the last result', () => {
    const plan = planCoverage(coverage({ lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-05T09:00:00Z'));
    expect(plan.status).toBe('scheduled');
    expect(plan.nextRunAt).toEqual(t('2026-01-06T08:00:00Z'));
    expect(plan.lastRunAt).toEqual(t('2026-01-05T08:00:00Z'));
    expect(plan.endsAt).toEqual(t('2026-01-31T00:00:00Z'));
    expect(plan.issues).toEqual([]);
  });

  it('is due once the next run time is reached', () => {
    const plan = planCoverage(coverage({ lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-06T08:00:00Z'));
    expect(plan.status).toBe('due');
  });

  it('runs a PT30M coverage every 30 minutes', () => {
    const plan = planCoverage(coverage({ periodicity: 'PT30M', lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-05T08:10:00Z'));
    expect(plan.nextRunAt).toEqual(t('2026-01-05T08:30:00Z'));
  });

  it('runs a P1M coverage on the last day of February after Jan 31', () => {
    const plan = planCoverage(
      coverage({ periodicity: 'P1M', duration: 'P1Y', createdAt: t('2026-01-31T10:00:00Z'), lastResultAt: t('2026-01-31T10:00:00Z') }),
      p,
      t('2026-02-01T00:00:00Z'),
    );
    expect(plan.nextRunAt).toEqual(t('2026-02-28T10:00:00Z'));
  });

  it('keeps a daily run at 09:00 Paris time across the DST change', () => {
    const paris = testSchedulePolicy({ timezone: 'Europe/Paris' });
    const plan = planCoverage(
      coverage({ createdAt: t('2026-03-20T08:00:00Z'), lastResultAt: t('2026-03-28T08:00:00Z') }),
      paris,
      t('2026-03-28T12:00:00Z'),
    );
    expect(plan.nextRunAt).toEqual(t('2026-03-29T07:00:00Z'));
  });

  it('runs a never-run coverage first_run_grace after its creation', () => {
    const plan = planCoverage(coverage(), p, t('2026-01-01T00:05:00Z'));
    expect(plan.status).toBe('scheduled');
    expect(plan.nextRunAt).toEqual(t('2026-01-01T00:10:00Z'));
  });

  it('caps the first-run grace by a shorter periodicity', () => {
    const plan = planCoverage(coverage({ periodicity: 'PT5M' }), p, t('2026-01-01T00:00:00Z'));
    expect(plan.nextRunAt).toEqual(t('2026-01-01T00:05:00Z'));
  });

  it('finishes once the next run would be at or after first run + duration', () => {
    // Created Jan 1 00:00, P30D: the run of Jan 30 is the last; Jan 31 00:00 = end.
    const last = planCoverage(coverage({ lastResultAt: t('2026-01-29T00:00:05Z') }), p, t('2026-01-29T01:00:00Z'));
    expect(last.status).toBe('scheduled');
    expect(last.nextRunAt).toEqual(t('2026-01-30T00:00:05Z'));
    const done = planCoverage(coverage({ lastResultAt: t('2026-01-30T00:00:05Z') }), p, t('2026-01-30T01:00:00Z'));
    expect(done.status).toBe('finished');
    expect(done.nextRunAt).toBeUndefined();
  });

  it('finishes a coverage whose duration elapsed while nothing ran, instead of running it late', () => {
    const never = planCoverage(coverage({ createdAt: t('2025-01-01T00:00:00Z') }), p, t('2026-01-01T00:00:00Z'));
    expect(never.status).toBe('finished');
    const owed = planCoverage(coverage({ createdAt: t('2025-01-01T00:00:00Z'), lastResultAt: t('2025-01-15T00:00:00Z') }), p, t('2026-01-01T00:00:00Z'));
    expect(owed.status).toBe('finished');
  });

  it('runs an overdue coverage once, still inside its duration', () => {
    const plan = planCoverage(coverage({ lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-09T10:00:00Z'));
    expect(plan.status).toBe('due');
    expect(plan.nextRunAt).toEqual(t('2026-01-06T08:00:00Z'));
  });

  it('uses the earlier of creation and last result as the first run', () => {
    const plan = planCoverage(coverage({ createdAt: t('2026-01-10T00:00:00Z'), lastResultAt: t('2026-01-01T00:00:00Z') }), p, t('2026-01-01T01:00:00Z'));
    expect(plan.firstRunAt).toEqual(t('2026-01-01T00:00:00Z'));
    expect(plan.endsAt).toEqual(t('2026-01-31T00:00:00Z'));
  });

  it('applies an edited periodicity from the last run on', () => {
    const before = planCoverage(coverage({ lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-05T09:00:00Z'));
    const after = planCoverage(coverage({ periodicity: 'PT6H', lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-05T09:00:00Z'));
    expect(before.nextRunAt).toEqual(t('2026-01-06T08:00:00Z'));
    expect(after.nextRunAt).toEqual(t('2026-01-05T14:00:00Z'));
  });

  it('applies an edited duration to the end of the schedule', () => {
    const plan = planCoverage(coverage({ duration: 'P7D', lastResultAt: t('2026-01-06T00:00:00Z') }), p, t('2026-01-06T01:00:00Z'));
    expect(plan.endsAt).toEqual(t('2026-01-08T00:00:00Z'));
    expect(plan.status).toBe('scheduled');
    const done = planCoverage(coverage({ duration: 'P7D', lastResultAt: t('2026-01-07T00:00:00Z') }), p, t('2026-01-07T01:00:00Z'));
    expect(done.status).toBe('finished');
  });

  it.each([
    ['PT0S', 'periodicity "PT0S" is zero; using the default P1D'],
    ['-P1D', 'periodicity "-P1D" is negative; using the default P1D'],
    ['PT30S', 'periodicity "PT30S" is shorter than the minimum PT1M (scheduler.min_periodicity); using the default P1D'],
    ['P6Y', 'periodicity "P6Y" is longer than the maximum P5Y (scheduler.max_duration); using the default P1D'],
    ['every day', 'periodicity "every day" is not an ISO-8601 duration (examples: PT30M, PT6H, P1D, P1W, P1M, P1DT12H); using the default P1D'],
  ])('falls back to the default periodicity when it is %j, saying why', (periodicity, reason) => {
    const plan = planCoverage(coverage({ periodicity, lastResultAt: t('2026-01-05T08:00:00Z') }), p, t('2026-01-05T09:00:00Z'));
    expect(plan.periodicity).toBe('P1D');
    expect(plan.issues).toEqual([{ code: 'invalid-periodicity', reason }]);
    expect(plan.nextRunAt).toEqual(t('2026-01-06T08:00:00Z'));
  });

  it('falls back to the default duration when it is invalid or missing', () => {
    const invalid = planCoverage(coverage({ duration: 'P10Y' }), p, t('2026-01-01T00:00:00Z'));
    expect(invalid.duration).toBe('P30D');
    expect(invalid.issues[0].code).toBe('invalid-duration');
    const missing = planCoverage(coverage({ duration: null, periodicity: undefined }), p, t('2026-01-01T00:00:00Z'));
    expect(missing.issues.map((i) => i.code)).toEqual(['default-periodicity', 'default-duration']);
  });

  it('never schedules a manual-input coverage', () => {
    const plan = planCoverage(coverage({ manual: true }), p, t('2026-01-05T00:00:00Z'));
    expect(plan.status).toBe('manual');
    expect(plan.nextRunAt).toBeUndefined();
  });

  it('reports a started run without result as running until run_timeout', () => {
    const input = coverage({ lastResultAt: t('2026-01-05T08:00:00Z'), lastTriggeredAt: t('2026-01-06T08:00:00Z') });
    const running = planCoverage(input, p, t('2026-01-06T08:30:00Z'));
    expect(running.status).toBe('running');
    expect(running.nextRunAt).toEqual(t('2026-01-06T09:00:00Z'));
    // After the timeout the started run counts as the last run: no immediate re-run loop.
    const later = planCoverage(input, p, t('2026-01-06T09:00:00Z'));
    expect(later.status).toBe('scheduled');
    expect(later.nextRunAt).toEqual(t('2026-01-07T08:00:00Z'));
  });

  it('counts a result newer than the started run as the last run', () => {
    const plan = planCoverage(
      coverage({ lastTriggeredAt: t('2026-01-06T08:00:00Z'), lastResultAt: t('2026-01-06T08:02:00Z') }),
      p,
      t('2026-01-06T08:03:00Z'),
    );
    expect(plan.status).toBe('scheduled');
    expect(plan.nextRunAt).toEqual(t('2026-01-07T08:02:00Z'));
  });

  it('gives the remaining duration', () => {
    const plan = planCoverage(coverage(), p, t('2026-01-30T12:00:00Z'));
    expect(plan.remainingMs).toBe(12 * 3600_000);
  });
});

describe('effectivePeriodicity', () => {
  it('returns the coverage periodicity when valid and the default otherwise', () => {
    const p = testSchedulePolicy();
    expect(effectivePeriodicity('PT6H', p)).toBe('PT6H');
    expect(effectivePeriodicity('PT10S', p)).toBe('P1D');
    expect(effectivePeriodicity(undefined, p)).toBe('P1D');
  });
});

describe('planTimes (what the scheduler plans with: times as epoch ms)', () => {
  it('gives the times planCoverage gives', () => {
    const p = testSchedulePolicy({ timezone: 'Europe/Paris' });
    const now = t('2026-03-28T12:00:00Z');
    for (const extra of [
      { lastResultAt: t('2026-03-28T08:00:00Z') },
      { lastResultAt: t('2026-03-27T08:00:00Z'), lastTriggeredAt: t('2026-03-28T11:30:00Z') },
      { periodicity: 'P1M', duration: 'P1Y', createdAt: t('2026-01-31T10:00:00Z') },
      { periodicity: 'nonsense', duration: null },
      { manual: true },
    ]) {
      const input = coverage(extra);
      const plan = planCoverage(input, p, now);
      const times = planTimes(
        { ...input, createdAt: input.createdAt.getTime(), lastResultAt: input.lastResultAt?.getTime(), lastTriggeredAt: input.lastTriggeredAt?.getTime() },
        p,
        now.getTime(),
      );
      expect({ status: times.status, next: times.nextRunAt, ends: times.endsAt, periodicity: times.periodicity.iso }).toEqual({
        status: plan.status,
        next: plan.nextRunAt?.getTime(),
        ends: plan.endsAt.getTime(),
        periodicity: plan.periodicity,
      });
    }
  });

  it('reads a periodicity text under each policy (parsed once per policy and text)', () => {
    const strict = testSchedulePolicy({ min_periodicity: 'PT1H', default_periodicity: 'PT6H' });
    const loose = testSchedulePolicy();
    expect(effectivePeriodicity('PT30M', strict)).toBe('PT6H');
    expect(effectivePeriodicity('PT30M', loose)).toBe('PT30M');
    expect(effectivePeriodicity('PT30M', strict)).toBe('PT6H');
  });
});
