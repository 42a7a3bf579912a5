import { validityWindow } from '../../../src/domain/schedule/validity';

const runAt = new Date('2026-03-28T08:00:00Z');

describe('validityWindow', () => {
  it('sets last_result and valid_from to the run time and valid_to to the next planned run', () => {
    expect(validityWindow(runAt, 'PT6H')).toEqual({
      lastResult: '2026-03-28T08:00:00.000Z',
      validFrom: '2026-03-28T08:00:00.000Z',
      validTo: '2026-03-28T14:00:00.000Z',
    });
  });

  it('reads PT30M as 30 minutes', () => {
    expect(validityWindow(runAt, 'PT30M').validTo).toBe('2026-03-28T08:30:00.000Z');
  });

  it('adds P1D in the configured zone (23 h on the Paris spring DST day)', () => {
    expect(validityWindow(runAt, 'P1D', 'Europe/Paris').validTo).toBe('2026-03-29T07:00:00.000Z');
  });

  it('uses the fallback periodicity when the coverage has none or an invalid one', () => {
    expect(validityWindow(runAt, undefined, 'UTC', 'P1D').validTo).toBe('2026-03-29T08:00:00.000Z');
    expect(validityWindow(runAt, 'PT0S', 'UTC', 'P1D').validTo).toBe('2026-03-29T08:00:00.000Z');
    expect(validityWindow(runAt, '-P1D', 'UTC', 'PT12H').validTo).toBe('2026-03-28T20:00:00.000Z');
  });

  it('applies the scheduler bounds so valid_to matches the run the scheduler plans', () => {
    const bounds = { minPeriodicity: 'PT1M', maxDuration: 'P5Y' };
    expect(validityWindow(runAt, 'PT30S', 'UTC', 'P1D', bounds).validTo).toBe('2026-03-29T08:00:00.000Z');
    expect(validityWindow(runAt, 'P6Y', 'UTC', 'P1D', bounds).validTo).toBe('2026-03-29T08:00:00.000Z');
    expect(validityWindow(runAt, 'PT1M', 'UTC', 'P1D', bounds).validTo).toBe('2026-03-28T08:01:00.000Z');
  });

  it('omits valid_to when no period is usable', () => {
    expect(validityWindow(runAt, 'garbage')).toEqual({ lastResult: '2026-03-28T08:00:00.000Z', validFrom: '2026-03-28T08:00:00.000Z' });
  });
});
