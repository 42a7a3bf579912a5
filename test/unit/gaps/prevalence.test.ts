import { describeUsers, prevalenceFromUses, usesFromBundle, useWeight, type TechniqueUse } from '../../../src/domain/gaps/prevalence';
import { createPrevalenceSource } from '../../../src/app/prevalence-source';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import type { StixObject } from '../../../src/domain/stix/stix-types';
import { evidence, NOW, request, rule } from '../scoring/evidence-fixtures';

const DAY = 86_400_000;
const daysAgo = (n: number): string => new Date(NOW.getTime() - n * DAY).toISOString();
const use = (techniqueId: string, user: string, kind: TechniqueUse['kind'] = 'intrusion-set', date?: string): TechniqueUse => ({ techniqueId, user, kind, ...(date ? { date } : {}) });

describe('Gap prevalence from intelligence', () => {
  it('weighs a use fully within the window, then halves it every further window; undated 0.5', () => {
    expect(useWeight(daysAgo(10), NOW, 365)).toBe(1);
    expect(useWeight(daysAgo(730), NOW, 365)).toBeCloseTo(0.5);
    expect(useWeight(daysAgo(1095), NOW, 365)).toBeCloseTo(0.25);
    expect(useWeight(undefined, NOW, 365)).toBe(0.5);
  });

  it('counts distinct users, a parent with its sub-techniques\' users once, on a log scale of the most used', () => {
    const uses = [
      ...Array.from({ length: 30 }, (_, i) => use('T1105', `is-${i}`, 'intrusion-set', daysAgo(5))),
      use('T1059.001', 'is-1', 'intrusion-set', daysAgo(5)),
      use('T1059.003', 'is-1', 'intrusion-set', daysAgo(5)),
      use('T1059.003', 'c-1', 'campaign', daysAgo(400)),
      use('T1059.003', 'c-1', 'campaign', daysAgo(3)), // the most recent statement of a use counts
      use('T1082', 'report--1', 'report', daysAgo(100)),
      use('not-an-id', 'x'),
    ];
    const table = prevalenceFromUses(uses, { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 });
    expect(table.values.T1105).toBe(10);
    expect(table.users.T1059).toEqual({ intrusionSets: 1, campaigns: 1, reports: 0, recent: 2 });
    // ln(1+2)/ln(1+30) × 10 = 3.2 → 3; ln(2)/ln(31) × 10 = 2.0 → 2
    expect(table.values.T1059).toBe(3);
    expect(table.values['T1059.001']).toBe(2);
    expect(table.values.T1082).toBe(2);
    expect(table.values.T1614).toBeUndefined();
    expect(describeUsers(table.users.T1059)).toBe('used by 1 intrusion set, 1 campaign (2 within the window)');
  });

  it('reads intrusion-set and campaign uses and report contents from a STIX bundle, skipping revoked objects', () => {
    const ap = (id: string, tid: string, extra: Partial<StixObject> = {}): StixObject => ({ type: 'attack-pattern', id, external_references: [{ source_name: 'mitre-attack', external_id: tid }], ...extra });
    const objects: StixObject[] = [
      { type: 'intrusion-set', id: 'intrusion-set--1' },
      { type: 'campaign', id: 'campaign--1' },
      { type: 'intrusion-set', id: 'intrusion-set--old', revoked: true },
      { type: 'malware', id: 'malware--1' },
      ap('attack-pattern--a', 'T1105'),
      ap('attack-pattern--b', 'T1086', { revoked: true }),
      { type: 'relationship', id: 'relationship--1', relationship_type: 'uses', source_ref: 'intrusion-set--1', target_ref: 'attack-pattern--a', modified: daysAgo(1) },
      { type: 'relationship', id: 'relationship--2', relationship_type: 'uses', source_ref: 'campaign--1', target_ref: 'attack-pattern--a', created: daysAgo(2) },
      { type: 'relationship', id: 'relationship--3', relationship_type: 'uses', source_ref: 'malware--1', target_ref: 'attack-pattern--a' },
      { type: 'relationship', id: 'relationship--4', relationship_type: 'uses', source_ref: 'intrusion-set--old', target_ref: 'attack-pattern--a' },
      { type: 'relationship', id: 'relationship--5', relationship_type: 'uses', source_ref: 'intrusion-set--1', target_ref: 'attack-pattern--b' },
      { type: 'report', id: 'report--1', published: daysAgo(3), object_refs: ['attack-pattern--a', 'intrusion-set--1'] },
    ];
    expect(usesFromBundle(objects)).toEqual([
      { techniqueId: 'T1105', user: 'intrusion-set--1', kind: 'intrusion-set', date: daysAgo(1) },
      { techniqueId: 'T1105', user: 'campaign--1', kind: 'campaign', date: daysAgo(2) },
      { techniqueId: 'T1105', user: 'report--1', kind: 'report', date: daysAgo(3) },
    ]);
  });

  it('ranks gaps by the table and falls back to the shipped table, saying so, when the intelligence says too little', async () => {
    const ev = evidence({ rules: [rule({ id: 'r', techniques: ['T1003'] })] });
    const rich = prevalenceFromUses(
      Array.from({ length: 25 }, (_, i) => use(i < 20 ? 'T1082' : 'T1059', `is-${i}`, 'intrusion-set', daysAgo(1))),
      { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 },
    );
    const ranked = await createEmbeddedAssessor(ev, { prevalence: () => rich }).assess(request(['T1082', 'T1059']), { now: NOW });
    // The shipped table puts T1059 (10) far above T1082 (5); this platform's adversaries say otherwise.
    expect(ranked.gaps.map((g) => [g.techniqueId, g.prevalence, g.prevalenceSource])).toEqual([
      ['T1082', 10, 'OpenCTI: used by 20 intrusion sets (20 within the window)'],
      ['T1059', 6, 'OpenCTI: used by 5 intrusion sets (5 within the window)'],
    ]);
    const thin = prevalenceFromUses([use('T1082', 'is-1')], { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 });
    const fallback = await createEmbeddedAssessor(ev, { prevalence: () => thin }).assess(request(['T1059']), { now: NOW });
    expect(fallback.gaps[0]).toMatchObject({ prevalence: 10, prevalenceSource: 'shipped table' });
  });
});

describe('Prevalence source (the daemon\'s cache)', () => {
  const log = { info: jest.fn(), warn: jest.fn() } as unknown as Parameters<typeof createPrevalenceSource>[0]['log'];
  const table = (n: number) => prevalenceFromUses([use('T1105', `is-${n}`)], { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 });

  it('reads at the first ask without waiting, keeps the table for the refresh period, then reads again', async () => {
    let clock = 0;
    let reads = 0;
    const source = createPrevalenceSource({ label: 'OpenCTI', refreshMs: 1000, log, now: () => new Date(clock), read: async () => ({ table: table(++reads), calls: 2 }) });
    expect(source.current()).toBeUndefined(); // the shipped table ranks meanwhile
    await source.refresh();
    expect(reads).toBe(1);
    clock = 500;
    expect(source.current()?.users.T1105).toBeDefined();
    expect(reads).toBe(1);
    clock = 1600;
    source.current();
    await source.refresh();
    expect(reads).toBe(2);
    expect(source.status()).toMatchObject({ source: 'OpenCTI', calls: 4 });
  });

  it('keeps the last good table when a read fails, and does not retry before the period', async () => {
    let clock = 0;
    let fail = false;
    const source = createPrevalenceSource({
      label: 'OpenCTI',
      refreshMs: 1000,
      log,
      now: () => new Date(clock),
      read: async () => {
        if (fail) throw new Error('platform unavailable');
        return { table: table(1), calls: 1 };
      },
    });
    await source.refresh();
    fail = true;
    clock = 2000;
    source.current();
    await source.refresh();
    expect(source.current()?.uses).toBe(1);
    expect(source.status().lastError).toBe('platform unavailable');
  });
});
