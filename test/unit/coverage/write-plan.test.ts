import { isOwnHasCovered, ownedCoverageObject, planWrites, writesNothing, type StoredHasCovered } from '../../../src/domain/coverage/write-plan';
import { hasCoveredRelationshipId } from '../../../src/domain/ids/stix-ids';
import type { StixBundle, StixObject } from '../../../src/domain/stix/stix-types';

const COV = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const T = (n: number): string => `attack-pattern--0000000${n}-0000-4000-8000-000000000000`;
const scores = (d: number, p: number) => [
  { name: 'PREVENTION', score: p },
  { name: 'DETECTION', score: d },
];
const stored = (d: number, p: number) => scores(d, p).map((s) => ({ name: s.name, score: s.score }));

function rel(target: string, s = scores(60, 40)): StixObject {
  return { type: 'relationship', id: hasCoveredRelationshipId(COV, target), relationship_type: 'has-covered', source_ref: COV, target_ref: target, coverage: s };
}
function desired(targets: string[], cov = scores(60, 40), extra: Record<string, unknown> = {}): StixBundle {
  const coverage: StixObject = {
    type: 'security-coverage',
    id: COV,
    name: 'Coverage',
    covered_ref: 'report--1',
    coverage: cov,
    external_uri: 'https://opencti.example.org/dashboard/analyses/security_coverages/1',
    periodicity: 'P1D',
    platforms_affinity: ['windows'],
    last_result: '2026-12-07T00:00:00.000Z',
    ...extra,
  };
  return { type: 'bundle', id: 'bundle--1', objects: [coverage, ...targets.map((t) => rel(t))] };
}
const own = (target: string, s = stored(60, 40), via: 'standard' | 'merged' = 'standard'): StoredHasCovered => ({
  id: `internal-${target}`,
  standardId: via === 'standard' ? hasCoveredRelationshipId(COV, target) : `relationship--${target.slice(-4)}`,
  stixIds: via === 'merged' ? [hasCoveredRelationshipId(COV, target)] : [],
  targetId: target,
  scores: s,
});
const foreign = (target: string): StoredHasCovered => ({ id: `foreign-${target}`, standardId: 'relationship--f00d', stixIds: [], targetId: target, scores: stored(1, 1) });
const uri = 'https://opencti.example.org/dashboard/analyses/security_coverages/1';

describe('planWrites', () => {
  it('writes everything on the first run: relationships first, the coverage last, only its owned fields', () => {
    const plan = planWrites({ coverageId: COV, desired: desired([T(1), T(2)]), stored: {}, hasCovered: [], refreshDates: false });
    expect(plan.pushes.map((o) => o.type)).toEqual(['relationship', 'relationship', 'security-coverage']);
    const cov = plan.pushes[2];
    expect(cov).not.toHaveProperty('periodicity');
    expect(cov).not.toHaveProperty('platforms_affinity');
    expect(cov).toMatchObject({ name: 'Coverage', covered_ref: 'report--1', external_uri: uri });
    expect(plan.deletions).toEqual([]);
  });

  it('writes nothing when the platform already holds the result (the echo of our own push)', () => {
    const plan = planWrites({
      coverageId: COV,
      desired: desired([T(1), T(2)]),
      stored: { scores: stored(60, 40), externalUri: uri },
      hasCovered: [own(T(1)), own(T(2), stored(60, 40), 'merged')],
      refreshDates: false,
    });
    expect(writesNothing(plan)).toBe(true);
  });

  it('pushes only the relationship whose scores changed, without rewriting the coverage', () => {
    const plan = planWrites({
      coverageId: COV,
      desired: desired([T(1), T(2)]),
      stored: { scores: stored(60, 40), externalUri: uri },
      hasCovered: [own(T(1)), own(T(2), stored(10, 40))],
      refreshDates: false,
    });
    expect(plan.pushes.map((o) => o.target_ref ?? o.type)).toEqual([T(2)]);
  });

  it('deletes its own has-covered of a technique that left the container, never a foreign one', () => {
    const plan = planWrites({
      coverageId: COV,
      desired: desired([T(1)]),
      stored: { scores: stored(60, 40), externalUri: uri },
      hasCovered: [own(T(1)), own(T(2)), foreign(T(3))],
      refreshDates: false,
    });
    expect(plan.deletions.map((r) => r.targetId)).toEqual([T(2)]);
    expect(plan.pushes).toEqual([]);
  });

  it('does not write over another writer has-covered for a target it covers, and says so', () => {
    const plan = planWrites({ coverageId: COV, desired: desired([T(1), T(2)]), stored: { scores: stored(60, 40), externalUri: uri }, hasCovered: [own(T(1)), foreign(T(2))], refreshDates: false });
    expect(plan.foreignTargets).toEqual([T(2)]);
    expect(writesNothing(plan)).toBe(true);
  });

  it('rewrites the coverage when the scores or the link differ, or a scheduled run finds the window lapsed', () => {
    const base = { coverageId: COV, hasCovered: [own(T(1))], refreshDates: false };
    expect(planWrites({ ...base, desired: desired([T(1)], scores(70, 40)), stored: { scores: stored(60, 40), externalUri: uri } }).reasons).toEqual(
      expect.arrayContaining(['coverage: scores changed']),
    );
    expect(planWrites({ ...base, desired: desired([T(1)]), stored: { scores: stored(60, 40), externalUri: 'urn:opencti-connector:x/coverages/y' } }).reasons).toEqual([
      'coverage: external_uri differs',
    ]);
    expect(planWrites({ ...base, refreshDates: true, desired: desired([T(1)]), stored: { scores: stored(60, 40), externalUri: uri } }).reasons).toEqual([
      'coverage: validity window lapsed',
    ]);
  });

  it('treats scores as a set: order and name case do not matter', () => {
    const plan = planWrites({
      coverageId: COV,
      desired: desired([T(1)]),
      stored: { scores: [{ name: 'detection', score: 60 }, { name: 'PREVENTION', score: 40 }], externalUri: uri },
      hasCovered: [own(T(1), [{ name: 'DETECTION', score: 60 }, { name: 'prevention', score: 40 }])],
      refreshDates: false,
    });
    expect(writesNothing(plan)).toBe(true);
  });
});

describe('ownership', () => {
  it('recognises its relationship by standard id or by an id merged into x_opencti_stix_ids', () => {
    expect(isOwnHasCovered(COV, own(T(1)))).toBe(true);
    expect(isOwnHasCovered(COV, own(T(1), stored(1, 1), 'merged'))).toBe(true);
    expect(isOwnHasCovered(COV, foreign(T(1)))).toBe(false);
    // Our id for another target is not ours for this one.
    expect(isOwnHasCovered(COV, { standardId: hasCoveredRelationshipId(COV, T(2)), stixIds: [], targetId: T(1) })).toBe(false);
  });

  it('keeps only the coverage fields it owns', () => {
    expect(Object.keys(ownedCoverageObject(desired([]).objects[0])).sort()).toEqual(['coverage', 'covered_ref', 'external_uri', 'id', 'last_result', 'name', 'type'].sort());
  });
});
