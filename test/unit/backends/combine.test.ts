import { aggregateScores, combineAssessments, overallOf, toScore } from '../../../src/domain/assessment/combine';
import type { AssessmentResult, TechniqueAssessment } from '../../../src/domain/assessment/assessment-types';

function tech(id: string, source: string, scores: { detection?: number; prevention?: number }, extra: Partial<TechniqueAssessment> = {}): TechniqueAssessment {
  const tested = scores.detection !== undefined || scores.prevention !== undefined;
  return { techniqueId: id, tested, ...scores, why: [`${source} says ${id}`], rules: [], controls: [], source, ...extra };
}

function result(backend: string, techniques: TechniqueAssessment[], extra: Partial<AssessmentResult> = {}): AssessmentResult {
  return { backend, runAt: '2026-02-12T09:00:00.000Z', techniques, overall: overallOf(techniques), gaps: [], warnings: [], ...extra };
}

describe('combineAssessments', () => {
  const estimate = result(
    'embedded',
    [
      tech('T1059', 'embedded', { detection: 40, prevention: 20 }, { rules: ['sigma-1'], detectionParts: { dataSource: 10, ruleQuality: 10, validation: 10, enrichment: 10 } }),
      tech('T1531', 'embedded', { detection: 60 }, { rules: ['sigma-2'] }),
      tech('T1003', 'embedded', {}),
    ],
    { runAt: '2026-02-12T10:00:00.000Z', gaps: [{ techniqueId: 'T1059', priority: 5, prevalence: 5, impact: 5, feasibility: 5, detection: 40, missingDataSources: [] }] },
  );

  it('lets a measured score win per technique and type, and fills the other types from the estimate', () => {
    const siem = result('siem', [tech('T1059', 'siem', { detection: 100 }, { externalUri: 'https://kibana/alerts' }), tech('T1531', 'siem', {})], { runAt: '2026-02-12T08:00:00.000Z', externalUri: 'https://kibana/alerts' });
    const out = combineAssessments({ measured: [siem], estimate });
    const t1059 = out.techniques.find((t) => t.techniqueId === 'T1059')!;
    expect(t1059).toMatchObject({ detection: 100, prevention: 20, tested: true, source: 'siem+embedded', externalUri: 'https://kibana/alerts' });
    expect(t1059.detectionParts).toBeUndefined(); // the rubric explains the estimate, not the measurement
    expect(t1059.rules).toEqual(['sigma-1']);
    expect(t1059.why[0]).toBe('[siem] siem says T1059');
  });

  it('keeps the embedded estimate for a technique the measured backend could not test', () => {
    const openaev = result('openaev', [tech('T1059', 'openaev', { detection: 0, prevention: 100 }), tech('T1531', 'openaev', {}, { why: ['not tested: placeholder'] })]);
    const out = combineAssessments({ measured: [openaev], estimate });
    const t1531 = out.techniques.find((t) => t.techniqueId === 'T1531')!;
    expect(t1531).toMatchObject({ detection: 60, tested: true, source: 'embedded' });
    expect(t1531.prevention).toBeUndefined();
    expect(t1531.why).toEqual(['[embedded] embedded says T1531', '[openaev] not tested: placeholder']);
    // A measured 0 is a measurement: it overrides the estimate, it is not "missing".
    expect(out.techniques.find((t) => t.techniqueId === 'T1059')).toMatchObject({ detection: 0, prevention: 100, source: 'openaev' });
  });

  it('leaves a technique nobody scored untested, without a 0', () => {
    const openaev = result('openaev', [tech('T1003', 'openaev', {})]);
    const t = combineAssessments({ measured: [openaev], estimate }).techniques.find((x) => x.techniqueId === 'T1003')!;
    expect(t.tested).toBe(false);
    expect(t.detection).toBeUndefined();
    expect(t.prevention).toBeUndefined();
  });

  it('prefers the first measured backend when two measured the same type', () => {
    const openaev = result('openaev', [tech('T1059', 'openaev', { detection: 25 })]);
    const siem = result('siem', [tech('T1059', 'siem', { detection: 100 })]);
    expect(combineAssessments({ measured: [openaev, siem], estimate }).techniques.find((t) => t.techniqueId === 'T1059')!.detection).toBe(25);
    expect(combineAssessments({ measured: [siem, openaev], estimate }).techniques.find((t) => t.techniqueId === 'T1059')!.detection).toBe(100);
  });

  it('recomputes the overall list over the merged set, one integer entry per type', () => {
    const siem = result('siem', [tech('T1059', 'siem', { detection: 100 })]);
    const out = combineAssessments({ measured: [siem], estimate });
    // DETECTION over T1059 (100, siem) and T1531 (60, embedded); PREVENTION over T1059 (20).
    expect(out.overall).toEqual([
      { name: 'PREVENTION', score: 20 },
      { name: 'DETECTION', score: 80 },
    ]);
    expect(combineAssessments({ measured: [siem], estimate, aggregate: 'min' }).overall).toEqual([
      { name: 'PREVENTION', score: 20 },
      { name: 'DETECTION', score: 60 },
    ]);
  });

  it('keeps every source visible and links the coverage to the measured run', () => {
    const openaev = result('openaev', [tech('T1059', 'openaev', { prevention: 50 })], { externalUri: 'https://openaev/admin/scenarios/s1', warnings: ['1 simulation still running'] });
    const out = combineAssessments({ measured: [openaev], estimate });
    expect(out.backend).toBe('openaev+embedded');
    expect(out.externalUri).toBe('https://openaev/admin/scenarios/s1');
    expect(out.warnings).toEqual(['[openaev] 1 simulation still running']);
    expect(out.sources).toEqual([
      { backend: 'openaev', runAt: '2026-02-12T09:00:00.000Z', externalUri: 'https://openaev/admin/scenarios/s1', techniquesScored: 1 },
      { backend: 'embedded', runAt: '2026-02-12T10:00:00.000Z', techniquesScored: 2 },
    ]);
    expect(out.runAt).toBe('2026-02-12T10:00:00.000Z');
  });

  it('does not link the coverage to a backend that scored nothing', () => {
    const openaev = result('openaev', [tech('T1059', 'openaev', {})], { externalUri: 'https://openaev/admin/scenarios/s1' });
    expect(combineAssessments({ measured: [openaev], estimate }).externalUri).toBeUndefined();
  });

  it('updates the gaps with the merged scores', () => {
    const siem = result('siem', [tech('T1059', 'siem', { detection: 100 })]);
    expect(combineAssessments({ measured: [siem], estimate }).gaps[0]).toMatchObject({ techniqueId: 'T1059', detection: 100, prevention: 20 });
  });

  it('returns a lone result unchanged', () => {
    expect(combineAssessments({ measured: [], estimate })).toBe(estimate);
  });
});

describe('score helpers', () => {
  it('rounds and clamps to integer percentage points', () => {
    expect([toScore(66.6666), toScore(-5), toScore(150), toScore(Number.NaN)]).toEqual([67, 0, 100, 0]);
    expect(aggregateScores([], 'mean')).toBeUndefined();
    expect(aggregateScores([0, 100, 50], 'max')).toBe(100);
  });
});
