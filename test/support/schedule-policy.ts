import { schedulePolicyFrom, type ScheduleSettings } from '../../src/domain/schedule/schedule-plan';
import type { SchedulePolicy } from '../../src/domain/schedule/schedule-types';

/** The `scheduler` section's defaults (schemas/config.ts), as the tests' baseline schedule settings. */
export const DEFAULT_SCHEDULE_SETTINGS: Readonly<ScheduleSettings> = Object.freeze({
  default_periodicity: 'P1D',
  default_duration: 'P30D',
  min_periodicity: 'PT1M',
  max_duration: 'P5Y',
  timezone: 'UTC',
  first_run_grace: 'PT10M',
  run_timeout: 'PT1H',
});

/** A valid policy from the default settings with `overrides`; throws (with the reasons) if they are invalid. */
export function testSchedulePolicy(overrides: Partial<ScheduleSettings> = {}): SchedulePolicy {
  const r = schedulePolicyFrom({ ...DEFAULT_SCHEDULE_SETTINGS, ...overrides });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}
