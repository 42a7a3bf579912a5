import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScheduleCache, readAllEntries } from '../../../src/adapters/store/schedule-cache';
import { parseConfig } from '../../../src/app/config';
import { schedulePolicyOf } from '../../../src/app/scheduler/scheduler-setup';
import { ConfigError } from '../../../src/errors';

describe('schedule cache (state file)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sched-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = { id: 'i1', standardId: 'security-coverage--1', createdAt: '2026-01-01T00:00:00.000Z', periodicity: 'P1D', duration: null, lastResultAt: '2026-01-02T00:00:00.000Z', lastTriggeredAt: null };

  it('is empty when the file does not exist (deleted cache)', async () => {
    expect(await readAllEntries(createScheduleCache(join(dir, 'none.json')))).toEqual([]);
  });

  it('round-trips entries through an atomic write, creating the folder', async () => {
    const file = join(dir, 'sub', 'schedule.json');
    await createScheduleCache(file, { now: () => new Date('2026-01-03T00:00:00Z') }).save([entry]);
    expect(await readAllEntries(createScheduleCache(file))).toEqual([entry]);
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0])).toEqual({ version: 2, savedAt: '2026-01-03T00:00:00.000Z' });
  });

  it('ignores a foreign file and says why', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, JSON.stringify({ something: 'else' }));
    const reasons: string[] = [];
    expect(await readAllEntries(createScheduleCache(file, { onUnusable: (r) => reasons.push(r) }))).toEqual([]);
    expect(reasons[0]).toContain('is not a schedule cache');
  });

  it('drops malformed entries and keeps the others', async () => {
    const file = join(dir, 'schedule.json');
    const lines = [{ version: 2, savedAt: 'x' }, entry, { id: 'broken' }, { ...entry, createdAt: 'yesterday' }].map((l) => JSON.stringify(l));
    writeFileSync(file, `${lines.join('\n')}\n{not json\n`);
    expect(await readAllEntries(createScheduleCache(file))).toEqual([entry]);
  });

  it('ignores the whole-file format of earlier versions (rebuilt from the platform)', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, JSON.stringify({ version: 1, savedAt: 'x', entries: [entry] }));
    const reasons: string[] = [];
    expect(await readAllEntries(createScheduleCache(file, { onUnusable: (r) => reasons.push(r) }))).toEqual([]);
    expect(reasons).toEqual([`${file} is not a schedule cache (version 2); ignoring it`]);
  });

  it('writes a lazily produced schedule one line per coverage, in chunks, and reads it back whole', async () => {
    const file = join(dir, 'schedule.json');
    const many = Array.from({ length: 2500 }, (_, i) => ({ ...entry, id: `i${i}`, standardId: `security-coverage--${i}` }));
    function* lazily() {
      yield* many;
    }
    await createScheduleCache(file).save(lazily());
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(2501);
    expect(await readAllEntries(createScheduleCache(file))).toEqual(many);
  });
});

describe('scheduler settings', () => {
  it('stops startup naming the variable of an invalid setting', () => {
    const config = parseConfig({ scheduler: { min_periodicity: 'PT0S', timezone: 'Nowhere/City' } });
    expect(() => schedulePolicyOf(config)).toThrow(ConfigError);
    expect(() => schedulePolicyOf(config)).toThrow(/SCHEDULER_MIN_PERIODICITY: "PT0S" is zero.*SCHEDULER_TIMEZONE: "Nowhere\/City" is not an IANA time zone/);
  });

  it('accepts the defaults', () => {
    const policy = schedulePolicyOf(parseConfig({}));
    expect(policy.defaultPeriodicity.toISO()).toBe('P1D');
    expect(policy.zone).toBe('UTC');
  });
});
