import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveCoverageRequest } from '../../../src/domain/coverage/technique-resolution';
import { OPENCTI_MITRE_EXTENSION_ID, type StixObject } from '../../../src/domain/stix/stix-types';
import { InvalidMessageError, LimitExceededError } from '../../../src/errors';
import { describeWithShared, PROJECT_DIR, sharedPath } from '../../support/env';

const REPORT = 'report--f2b63e80-b523-4747-a069-35c002c690db';
const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';

const pattern = (n: number, extra: Record<string, unknown> = {}): StixObject => ({
  type: 'attack-pattern',
  id: `attack-pattern--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: `Pattern ${n}`,
  ...extra,
});
const mitre = (id: string) => ({ external_references: [{ source_name: 'capec', external_id: 'CAPEC-1' }, { source_name: 'mitre-attack', external_id: id }] });
const report = (refs: string[], id = REPORT): StixObject => ({ type: 'report', id, name: 'APT-X report', object_refs: refs });

describe('resolveCoverageRequest', () => {
  it('reads the ATT&CK id from external_references, x_mitre_id, the OpenCTI MITRE extension, then a leading id in the name', () => {
    const patterns = [
      pattern(1, mitre('t1059.001')),
      pattern(2, { x_mitre_id: 'T1003' }),
      pattern(3, { extensions: { [OPENCTI_MITRE_EXTENSION_ID]: { id: 'T1531' } } }),
      pattern(4, { name: 'T1036.005: Match Legitimate Name or Location' }),
    ];
    const req = resolveCoverageRequest({ objects: [report(patterns.map((p) => p.id)), ...patterns] });
    expect(req.techniques).toEqual([
      { techniqueId: 'T1059.001', stixId: patterns[0].id, name: 'Pattern 1' },
      { techniqueId: 'T1003', stixId: patterns[1].id, name: 'Pattern 2' },
      { techniqueId: 'T1531', stixId: patterns[2].id, name: 'Pattern 3' },
      { techniqueId: 'T1036.005', stixId: patterns[3].id, name: 'Match Legitimate Name or Location' },
    ]);
  });

  it('collects patterns from object_refs, from relationships of the container, and from relationships the container lists', () => {
    const [a, b, c, d] = [pattern(1, mitre('T1001')), pattern(2, mitre('T1002')), pattern(3, mitre('T1003')), pattern(4, mitre('T1004'))];
    const iset: StixObject = { type: 'intrusion-set', id: 'intrusion-set--1', name: 'APT-X' };
    const fromContainer: StixObject = { type: 'relationship', id: 'relationship--1', relationship_type: 'targets', source_ref: REPORT, target_ref: b.id };
    const listed: StixObject = { type: 'relationship', id: 'relationship--2', relationship_type: 'uses', source_ref: iset.id, target_ref: c.id };
    const unlisted: StixObject = { type: 'relationship', id: 'relationship--3', relationship_type: 'uses', source_ref: iset.id, target_ref: d.id };
    const req = resolveCoverageRequest({ objects: [report([a.id, iset.id, listed.id]), a, b, c, d, iset, fromContainer, listed, unlisted] });
    expect(req.techniques.map((t) => t.techniqueId)).toEqual(['T1001', 'T1002', 'T1003']);
  });

  it('reports patterns without an id, revoked ones and dangling refs as unmatched, and de-duplicates by technique id', () => {
    const ok = pattern(1, mitre('T1059'));
    const dup = pattern(2, mitre('T1059'));
    const noId = pattern(3, { name: 'Custom loader' });
    const revoked = pattern(4, { ...mitre('T1086'), revoked: true });
    const dangling = 'attack-pattern--99999999-0000-4000-8000-000000000000';
    const req = resolveCoverageRequest({ objects: [report([ok.id, dup.id, noId.id, revoked.id, dangling]), ok, dup, noId, revoked, { type: 'x-unknown', id: 'x-unknown--1' }] });
    expect(req.techniques).toEqual([{ techniqueId: 'T1059', stixId: ok.id, name: 'Pattern 1' }]);
    expect(req.unmatched.map((u) => [u.stixId, u.reason.split(' ')[0]])).toEqual([
      [noId.id, 'no'],
      [revoked.id, 'revoked'],
      [dangling, 'referenced'],
    ]);
    expect(req.unmatched[0].name).toBe('Custom loader');
  });

  it('echoes the coverage object: id, name, covered_ref, periodicity, duration, affinities, scores, dates, labels', () => {
    const p = pattern(1, mitre('T1059'));
    const coverage: StixObject = {
      type: 'security-coverage',
      id: COVERAGE,
      name: 'APT-X campaign report',
      covered_ref: REPORT,
      periodicity: 'P1D',
      duration: 'P30D',
      type_affinity: 'ENDPOINT',
      platforms_affinity: ['windows', 'linux'],
      coverage: [{ name: 'DETECTION', score: 75 }],
      created: '2026-02-10T09:12:00.000Z',
      modified: '2026-02-11T09:12:00.000Z',
      labels: ['assessor:embedded'],
    };
    const req = resolveCoverageRequest({ objects: [coverage, report([p.id]), p] });
    expect(req).toMatchObject({
      coverageId: COVERAGE,
      coverageName: 'APT-X campaign report',
      coveredRef: REPORT,
      coveredType: 'report',
      coveredName: 'APT-X report',
      periodicity: 'P1D',
      duration: 'P30D',
      typeAffinity: 'ENDPOINT',
      platformsAffinity: ['windows', 'linux'],
      currentCoverage: [{ name: 'DETECTION', score: 75 }],
      created: '2026-02-10T09:12:00.000Z',
      modified: '2026-02-11T09:12:00.000Z',
      labels: ['assessor:embedded'],
    });
  });

  it('takes every attack pattern when the covered container itself is not in the content', () => {
    const coverage: StixObject = { type: 'security-coverage', id: COVERAGE, name: 'c', covered_ref: REPORT };
    const req = resolveCoverageRequest({ objects: [pattern(1, mitre('T1001')), pattern(2, mitre('T1002'))], coverage });
    expect(req.techniques.map((t) => t.techniqueId)).toEqual(['T1001', 'T1002']);
    expect(req.coveredType).toBe('report');
  });

  it('computes the platform id and a name for an offline bundle without a coverage object', () => {
    const p = pattern(1, mitre('T1059'));
    const req = resolveCoverageRequest({ objects: [report([p.id]), p] });
    expect(req.coverageId).toBe(COVERAGE);
    expect(req.coverageName).toBe('Coverage of APT-X report');
  });

  it('prefers coveredId, else the container referencing the most attack patterns', () => {
    const [a, b] = [pattern(1, mitre('T1001')), pattern(2, mitre('T1002'))];
    const small = report([a.id], 'report--00000000-0000-4000-8000-000000000001');
    const big: StixObject = { type: 'grouping', id: 'grouping--1', name: 'g', object_refs: [a.id, b.id] };
    expect(resolveCoverageRequest({ objects: [small, big, a, b] }).coveredRef).toBe('grouping--1');
    expect(resolveCoverageRequest({ objects: [small, big, a, b], coveredId: small.id }).coveredRef).toBe(small.id);
  });

  it('throws InvalidMessageError without a container and LimitExceededError over maxTechniques', () => {
    expect(() => resolveCoverageRequest({ objects: [pattern(1, mitre('T1001'))] })).toThrow(InvalidMessageError);
    expect(() => resolveCoverageRequest({ objects: [{ type: 'security-coverage', id: COVERAGE, name: 'c' }] })).toThrow(/no covered_ref/);
    const ps = [1, 2, 3].map((n) => pattern(n, mitre(`T100${n}`)));
    expect(() => resolveCoverageRequest({ objects: [report(ps.map((p) => p.id)), ...ps] }, { maxTechniques: 2 })).toThrow(LimitExceededError);
  });

  it('resolves the shipped example: 15 techniques (5 of them only via uses relationships of the intrusion set), 1 pattern without an id', () => {
    const bundle = JSON.parse(readFileSync(join(PROJECT_DIR, 'config/examples/report-apt-example.json'), 'utf8'));
    const req = resolveCoverageRequest({ objects: bundle.objects });
    expect(req.techniques).toHaveLength(15);
    expect(req.techniques.map((t) => t.techniqueId)).toEqual(expect.arrayContaining(['T1059', 'T1059.001', 'T1490', 'T1082']));
    expect(req.unmatched).toHaveLength(1);
    expect(req.coverageId).toBe(COVERAGE);
  });
});

describeWithShared('resolveCoverageRequest on a real vendor bundle (STIX 2.0)', () => {
  const bundle = JSON.parse(readFileSync(sharedPath('samples/stix-reports/ryuk-ransomware.json'), 'utf8'));

  it('finds the 15 techniques of the Ryuk campaign report', () => {
    const req = resolveCoverageRequest({ objects: bundle.objects });
    expect(req.techniques).toHaveLength(15);
    expect(req.unmatched).toEqual([]);
    expect(req.techniques.map((t) => t.techniqueId)).toEqual(expect.arrayContaining(['T1036.005', 'T1489', 'T1486', 'T1134', 'T1059.003']));
    expect(req.techniques.find((t) => t.techniqueId === 'T1489')).toMatchObject({ name: 'Service Stop', tactics: ['impact'] });
    expect(req.techniques.every((t) => t.stixId?.startsWith('attack-pattern--'))).toBe(true);
  });

  it('resolves the same 15 techniques through the campaign\'s uses relationships', () => {
    const req = resolveCoverageRequest({ objects: bundle.objects, coveredId: 'campaign--393b2144-0bdf-49b2-a0ad-0d556f06b336' });
    expect(req.coveredType).toBe('campaign');
    expect(req.techniques).toHaveLength(15);
  });
});
