import { buildCoverageBundle, coverageContentHash, recurrenceBody, toOpenAevPeriod } from '../../../src/adapters/openaev/openaev-bundle';
import { coverageRequest } from '../../support/coverage-request';

const request = coverageRequest([{ techniqueId: 'T1059.001', stixId: 'attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48', name: 'PowerShell' }, 'T1531'], {
  periodicity: 'P1D',
  duration: 'P30D',
  modified: '2026-02-10T09:12:00.000Z',
  created: '2026-02-10T09:00:00.000Z',
});
const schedule = { periodicity: 'P1D', duration: 'P30D' };

describe('OpenAEV period rewriting', () => {
  it.each([
    ['P1D', 'P1D'],
    ['P7D', 'P1W'],
    ['P2W', 'P2W'],
    ['PT6H', 'PT6H'],
    ['P1DT12H', 'PT36H'],
    ['PT120M', 'PT2H'],
    ['P1M', 'P1M'],
    ['P1Y', 'P12M'],
  ])('writes %s as %s, a form OpenAEV parses to the same period', (iso, expected) => {
    expect(toOpenAevPeriod(iso)).toEqual({ period: expected });
  });

  it('never lets minutes be read as months: PT30M becomes one hour, with a warning', () => {
    const out = toOpenAevPeriod('PT30M');
    expect(out.period).toBe('PT1H');
    expect(out.warning).toMatch(/one-hour granularity/);
  });

  it('approximates mixed calendar periods and says so', () => {
    expect(toOpenAevPeriod('P1M1D')).toEqual({ period: 'P31D', warning: expect.stringMatching(/30 days/) });
  });

  it('rejects what is not a positive duration', () => {
    expect(() => toOpenAevPeriod('daily')).toThrow(/ISO-8601/);
    expect(() => toOpenAevPeriod('PT0S')).toThrow(/ISO-8601/);
  });
});

describe('recurrence body', () => {
  const now = new Date('2026-02-12T09:00:00.500Z');
  it('starts two minutes from now in whole seconds and ends after the duration', () => {
    expect(recurrenceBody(schedule, now, false)).toEqual({
      body: { scenario_recurrence: 'P1D', scenario_recurrence_start: '2026-02-12T09:02:00.000Z', scenario_recurrence_end: '2026-03-14T09:02:00.000Z' },
      key: 'P1D|P30D',
    });
  });

  it('clears the recurrence in draft mode', () => {
    expect(recurrenceBody(schedule, now, true)).toEqual({ body: { scenario_recurrence: null, scenario_recurrence_start: null, scenario_recurrence_end: null }, key: 'draft' });
  });
});

describe('coverage content hash', () => {
  it('is stable for the same content and ignores technique order and modified', () => {
    const reordered = { ...request, techniques: [...request.techniques].reverse(), modified: '2026-03-01T00:00:00.000Z' };
    expect(coverageContentHash(reordered, schedule)).toBe(coverageContentHash(request, schedule));
  });

  it('changes when a technique, the periodicity or the platforms change', () => {
    const hashes = [
      coverageContentHash(request, schedule),
      coverageContentHash({ ...request, techniques: [...request.techniques, { techniqueId: 'T1003' }] }, schedule),
      coverageContentHash(request, { periodicity: 'P7D', duration: 'P30D' }),
      coverageContentHash({ ...request, platformsAffinity: ['windows'] }, schedule),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('coverage bundle', () => {
  it('carries what OpenAEV reads: coverage with created_at extension, attack patterns with the MITRE extension id', () => {
    const bundle = buildCoverageBundle(request, schedule, new Date('2026-02-12T09:00:00.000Z'));
    const [coverage, ...patterns] = bundle.objects;
    expect(coverage).toMatchObject({
      type: 'security-coverage',
      id: request.coverageId,
      covered_ref: request.coveredRef,
      periodicity: 'P1D',
      modified: '2026-02-12T09:00:00.000Z',
      extensions: { 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba': { created_at: '2026-02-10T09:00:00.000Z' } },
    });
    expect(patterns.map((p) => (p.extensions as Record<string, { id: string }>)['extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b'].id)).toEqual(['T1059.001', 'T1531']);
    expect(patterns[0].id).toBe('attack-pattern--dcaa092b-7de9-4a21-977f-7fcb77e89c48');
    expect(patterns[1].id).toBe(buildCoverageBundle(request, schedule, new Date()).objects[2].id); // invented ids are deterministic
  });

  it('keeps a later platform modified date so the send is never obsolete', () => {
    const bundle = buildCoverageBundle({ ...request, modified: '2027-01-01T00:00:00.000Z' }, schedule, new Date('2026-02-12T09:00:00.000Z'));
    expect(bundle.objects[0].modified).toBe('2027-01-01T00:00:00.000Z');
  });
});
