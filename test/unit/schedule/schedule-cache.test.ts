import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  const entry = { id: 'i1', standardId: 'security-coverage--1', createdAt: Date.parse('2026-01-01T00:00:00.000Z'), periodicity: 'P1D', duration: null, lastResultAt: Date.parse('2026-01-02T00:00:00.000Z') };
  /** The same coverage as version 2 wrote it. */
  const v2 = { id: 'i1', standardId: 'security-coverage--1', createdAt: '2026-01-01T00:00:00.000Z', periodicity: 'P1D', duration: null, lastResultAt: '2026-01-02T00:00:00.000Z', lastTriggeredAt: null };
  const damaged = (file: string) => {
    const reasons: string[] = [];
    return { cache: createScheduleCache(file, { onDamaged: (r) => reasons.push(r), onUnusable: (r) => reasons.push(`unusable: ${r}`) }), reasons };
  };

  it('is empty when the file does not exist (deleted cache)', async () => {
    expect(await readAllEntries(createScheduleCache(join(dir, 'none.json')))).toEqual([]);
  });

  it('round-trips entries through an atomic write, creating the folder', async () => {
    const file = join(dir, 'sub', 'schedule.json');
    await createScheduleCache(file, { now: () => new Date('2026-01-03T00:00:00Z') }).save([entry]);
    expect(await readAllEntries(createScheduleCache(file))).toEqual([entry]);
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0])).toEqual({ version: 3, savedAt: '2026-01-03T00:00:00.000Z' });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['schedule.json']);
  });

  it('round-trips every field, absent ones included, and text of any kind', async () => {
    const file = join(dir, 'schedule.json');
    const full = { id: 'i2', standardId: 'security-coverage--2', name: 'Ünïcode "quoted" \\ name\nwith a newline 🛡️', createdAt: 1, periodicity: null, duration: 'P1Y', lastResultAt: 2, lastTriggeredAt: 3, manual: true };
    const bare = { id: 'i3', standardId: 'security-coverage--3', createdAt: 4 };
    await createScheduleCache(file).save([full, bare]);
    const back = await readAllEntries(createScheduleCache(file));
    expect(back).toEqual([full, { ...bare, periodicity: null, duration: null }]);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(3);
  });

  it('reads the version 2 files earlier releases wrote (one object a line, ISO dates)', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, `${[{ version: 2, savedAt: 'x' }, v2, { ...v2, id: 'i9', standardId: 'security-coverage--9', manual: true }].map((l) => JSON.stringify(l)).join('\n')}\n`);
    const { cache, reasons } = damaged(file);
    expect(await readAllEntries(cache)).toEqual([entry, { ...entry, id: 'i9', standardId: 'security-coverage--9', manual: true }]);
    expect(reasons).toEqual([]);
  });

  it('ignores a foreign file and says why', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, JSON.stringify({ something: 'else' }));
    const reasons: string[] = [];
    expect(await readAllEntries(createScheduleCache(file, { onUnusable: (r) => reasons.push(r) }))).toEqual([]);
    expect(reasons[0]).toContain('is not a schedule cache');
  });

  it('drops malformed entries, keeps the others and says how many it dropped', async () => {
    const file = join(dir, 'schedule.json');
    const good = ['x', 'security-coverage--x', null, 5, 'P1D', null, null, null, null];
    const lines = [{ version: 3, savedAt: 'x' }, good, ['broken'], [...good.slice(0, 3), 'yesterday', ...good.slice(4)], v2].map((l) => JSON.stringify(l));
    writeFileSync(file, `${lines.join('\n')}\n{not json\n`);
    const { cache, reasons } = damaged(file);
    expect(await readAllEntries(cache)).toEqual([{ id: 'x', standardId: 'security-coverage--x', createdAt: 5, periodicity: 'P1D', duration: null }]);
    expect(reasons).toEqual([`4 of 5 coverage lines of ${file} unreadable (truncated or damaged file); they come back with the next reconciliation`]);
  });

  it('keeps every whole line of a truncated file and says the cut one was lost', async () => {
    const file = join(dir, 'schedule.json');
    const many = Array.from({ length: 1000 }, (_, i) => ({ ...entry, id: `i${i}`, standardId: `security-coverage--${i}` }));
    await createScheduleCache(file).save(many);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 20));
    const { cache, reasons } = damaged(file);
    expect(await readAllEntries(cache)).toEqual(many.slice(0, 999));
    expect(reasons).toEqual([`1 of 1000 coverage lines of ${file} unreadable (truncated or damaged file); they come back with the next reconciliation`]);
  });

  it('ignores a file cut inside its header', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, '{"version":3,"sav');
    const { cache, reasons } = damaged(file);
    expect(await readAllEntries(cache)).toEqual([]);
    expect(reasons).toEqual([`unusable: ${file} is not a schedule cache (version 2 or 3); ignoring it`]);
  });

  it('ignores the whole-file format of earlier versions (rebuilt from the platform)', async () => {
    const file = join(dir, 'schedule.json');
    writeFileSync(file, JSON.stringify({ version: 1, savedAt: 'x', entries: [v2] }));
    const reasons: string[] = [];
    expect(await readAllEntries(createScheduleCache(file, { onUnusable: (r) => reasons.push(r) }))).toEqual([]);
    expect(reasons).toEqual([`${file} is not a schedule cache (version 2 or 3); ignoring it`]);
  });

  it('writes a lazily produced schedule one line per coverage, in buffers, and reads it back whole', async () => {
    const file = join(dir, 'schedule.json');
    // Past several write buffers and read chunks, with lines that straddle their boundaries.
    const many = Array.from({ length: 2500 }, (_, i) => ({ ...entry, id: `i${i}`, standardId: `security-coverage--${i}`, name: `Coverage ${i} ${'é'.repeat(i % 97)}` }));
    function* lazily() {
      yield* many;
    }
    await createScheduleCache(file).save(lazily());
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(2501);
    expect(await readAllEntries(createScheduleCache(file))).toEqual(many);
  });

  it('writes a line longer than its buffer', async () => {
    const file = join(dir, 'schedule.json');
    const long = { ...entry, name: 'n'.repeat(100_000) };
    await createScheduleCache(file).save([entry, long, entry]);
    expect(await readAllEntries(createScheduleCache(file))).toEqual([entry, long, entry]);
  });

  it('leaves the previous file in place and no temp file when a save fails', async () => {
    const file = join(dir, 'schedule.json');
    await createScheduleCache(file).save([entry]);
    function* failing() {
      yield entry;
      throw new Error('schedule changed under the save');
    }
    await expect(createScheduleCache(file).save(failing())).rejects.toThrow('schedule changed under the save');
    expect(await readAllEntries(createScheduleCache(file))).toEqual([entry]);
    expect(readdirSync(dir)).toEqual(['schedule.json']);
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
