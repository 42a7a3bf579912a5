import type { CoverageScheduleInput } from '../../src/domain/schedule/schedule-types';
import { createRng } from './prng';

/**
 * Coverages as the scheduler reads them from the platform, spread the way a big deployment looks:
 * periodicities from an hour to a month (some missing or invalid), durations, last results anywhere in
 * the last period, a few manual-input ones.
 */

const PERIODICITIES: Array<string | null> = ['PT1H', 'PT6H', 'PT12H', 'P1D', 'P1D', 'P1D', 'P7D', 'P7D', 'P1M', null, 'every day'];
const PERIOD_MS: Record<string, number> = { PT1H: 3.6e6, PT6H: 2.16e7, PT12H: 4.32e7, P1D: 8.64e7, P7D: 6.048e8, P1M: 2.592e9 };
const DURATIONS: Array<string | null> = ['P30D', 'P90D', 'P1Y', 'P1Y', 'P5Y', null];

export function generateScheduleInputs(seed: number, count: number, now: Date): CoverageScheduleInput[] {
  const rng = createRng(seed);
  const t = now.getTime();
  return Array.from({ length: count }, (_, i) => {
    const periodicity = rng.pick(PERIODICITIES);
    const periodMs = PERIOD_MS[periodicity ?? 'P1D'] ?? PERIOD_MS.P1D;
    const createdAt = new Date(t - rng.int(1, 60) * 8.64e7 - rng.int(0, 8.64e7));
    const hasResult = rng.chance(0.95);
    const lastResultAt = hasResult ? new Date(Math.max(createdAt.getTime(), t - rng.next() * periodMs)) : null;
    return {
      id: rng.uuid(),
      standardId: `security-coverage--${rng.uuid()}`,
      name: `Bench coverage ${i}`,
      createdAt,
      periodicity,
      duration: rng.pick(DURATIONS),
      lastResultAt,
      lastTriggeredAt: null,
      manual: rng.chance(0.02),
    };
  });
}
