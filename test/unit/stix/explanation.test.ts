import type { AssessmentResult, Gap, TechniqueAssessment } from '../../../src/domain/assessment/assessment-types';
import type { CoverageRequest } from '../../../src/domain/coverage/coverage-types';
import { coverageSummary, gapAction, MAX_TECHNIQUE_EXPLANATION, summaryNoteId, techniqueExplanation } from '../../../src/domain/stix/explanation';

const technique = (extra: Partial<TechniqueAssessment> = {}): TechniqueAssessment => ({
  techniqueId: 'T1003.001',
  name: 'LSASS Memory',
  tested: true,
  detection: 72,
  prevention: 100,
  detectionParts: { dataSource: 0, ruleQuality: 22, validation: 25, enrichment: 25 },
  why: [],
  rules: ['r1'],
  controls: ['c1'],
  source: 'embedded',
  evidence: {
    rules: [
      { id: 'r1', title: 'LSASS access by *unusual* process', state: 'counted', maturity: 'stable', source: 'process_access', fed: false },
      { id: 'r2', title: 'Mimikatz command line', state: 'disabled', maturity: 'test' },
    ],
    dataSources: [{ id: 'process_access', collected: false }],
    controls: [{ id: 'c1', name: 'Credential Guard', mode: 'block', validated: true }],
    emulation: { outcome: 'detected', date: '2026-11-30', test: 'atomic T1003.001-1' },
  },
  ...extra,
});

describe('techniqueExplanation (has-covered description)', () => {
  it('gives the score parts, the rules that counted and not, missing data sources, the emulation and the controls', () => {
    expect(techniqueExplanation(technique())).toBe(
      [
        '**Detection 72** = data source 0 + rule quality 22 + validation 25 + enrichment 25',
        '- rules counted (1): LSASS access by \\*unusual\\* process (stable; process\\_access **not collected**)',
        '- not counted: Mimikatz command line (disabled)',
        '- data sources not collected: process\\_access',
        '- latest emulation: detected on 2026-11-30 (atomic T1003.001-1)',
        '**Prevention 100**',
        '- controls: Credential Guard (block, validated)',
      ].join('\n'),
    );
  });

  it('is byte-identical for the same input and bounded in length', () => {
    expect(techniqueExplanation(technique())).toBe(techniqueExplanation(technique()));
    const many = technique({
      evidence: { rules: Array.from({ length: 400 }, (_, i) => ({ id: `r${i}`, title: `A very long rule title number ${i} `.repeat(5), state: 'counted' as const, maturity: 'stable' as const })), dataSources: [], controls: [] },
    });
    expect((techniqueExplanation(many) ?? '').length).toBeLessThanOrEqual(MAX_TECHNIQUE_EXPLANATION);
  });

  it('says "not applicable" for a technique none of the coverage\'s platforms runs, and shows each platform\'s scores', () => {
    const na = technique({ tested: false, notApplicable: true, detection: undefined, prevention: undefined, why: ['not applicable: T1547.001 runs on windows (ATT&CK), none of this coverage\'s platforms (linux); no score'] });
    expect(techniqueExplanation(na)).toBe("Not applicable: no score. T1547.001 runs on windows (ATT&CK), none of this coverage's platforms (linux); no score");
    const both = technique({ platforms: [{ platform: 'windows', detection: 94, prevention: 100, rules: 3 }, { platform: 'linux', detection: 72, prevention: 100, rules: 1 }] });
    expect(techniqueExplanation(both)?.split('\n')[1]).toBe('- per platform: windows detection 94, prevention 100; linux detection 72, prevention 100 (the weakest bounds the score)');
  });

  it('says "not tested" rather than inventing a 0', () => {
    expect(techniqueExplanation(technique({ tested: false, detection: undefined, prevention: undefined, source: 'openaev', why: ['no injector for this technique'] }))).toBe(
      'Not tested by openaev: no score. no injector for this technique',
    );
  });
});

describe('gaps: dimension and action', () => {
  const gap = (extra: Partial<Gap> = {}): Gap => ({ techniqueId: 'T1003.001', priority: 8, prevalence: 4, impact: 4, feasibility: 4, missingDataSources: [], ...extra });

  it('names the weaker dimension and what closes it', () => {
    expect(gapAction(gap({ detection: 20, prevention: 80 }), technique())).toEqual({ dimension: 'detection', action: 'enable rule "Mimikatz command line"' });
    expect(gapAction(gap({ detection: 80, prevention: 10 }), technique())).toEqual({ dimension: 'prevention', action: 'add or enforce a prevention control' });
    const onlyUnfed = technique({ evidence: { ...technique().evidence!, rules: [technique().evidence!.rules[0]] } });
    expect(gapAction(gap({ detection: 20 }), onlyUnfed).action).toBe('collect process\\_access (rule "LSASS access by \\*unusual\\* process" depends on it)');
    expect(gapAction(gap({ missingDataSources: ['Process: OS API Execution'] }), technique({ evidence: { rules: [], dataSources: [], controls: [] } })).action).toBe(
      'collect Process: OS API Execution',
    );
  });

  it('takes the dimension and action the engine gave the gap (a prevention gap with detection untested stays a prevention gap)', () => {
    expect(gapAction(gap({ prevention: 0, dimension: 'prevention', action: 'switch control "AppLocker_scripts" from audit to block' }), technique({ detection: undefined }))).toEqual({
      dimension: 'prevention',
      action: 'switch control "AppLocker\\_scripts" from audit to block',
    });
  });
});

describe('coverageSummary (the summary note)', () => {
  const request: CoverageRequest = {
    coverageId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
    coverageName: 'APT-X',
    coveredRef: 'report--1',
    coveredName: 'APT-X report',
    techniques: [{ techniqueId: 'T1003.001' }, { techniqueId: 'T1059' }],
    unmatched: [],
  };
  const result: AssessmentResult = {
    backend: 'embedded',
    runAt: '2026-12-07T00:00:00.000Z',
    techniques: [technique(), { techniqueId: 'T1059', tested: false, why: [], rules: [], controls: [], source: 'embedded' }],
    overall: [{ name: 'DETECTION', score: 72 }, { name: 'PREVENTION', score: 100 }],
    gaps: [{ techniqueId: 'T1003.001', name: 'LSASS Memory', priority: 8, prevalence: 4, impact: 4, feasibility: 4, detection: 72, prevention: 100, missingDataSources: [] }],
    warnings: [],
  };

  it('states the scores, the counts and the ranked gaps with their action, without any clock', () => {
    const s = coverageSummary(request, result);
    expect(s.abstract).toBe('Coverage assessment: DETECTION 72, PREVENTION 100');
    expect(s.content).toContain('1 tested, 1 not tested; 1 with detection of 50 or more');
    expect(s.content).toContain('1. T1003.001 LSASS Memory: detection 72 → enable rule "Mimikatz command line" (priority 8)');
    expect(s.content).not.toMatch(/2026-12-07/);
    expect(coverageSummary(request, result)).toEqual(s);
  });

  it('names what ranked each gap, the parent it stands for, the platforms not applicable and the ATT&CK version', () => {
    const ranked: AssessmentResult = {
      ...result,
      attackVersion: '18.1',
      techniques: [technique(), { techniqueId: 'T1059', tested: false, notApplicable: true, why: [], rules: [], controls: [], source: 'embedded' }],
      gaps: [{ ...result.gaps[0], techniqueId: 'T1003.001', covers: ['T1003'], dimension: 'detection', action: 'collect windows/process_access', prevalenceSource: 'OpenCTI: used by 12 intrusion sets (3 within the window)' }],
    };
    const s = coverageSummary({ ...request, platformsAffinity: ['linux'] }, ranked);
    expect(s.content).toContain('- 1 not applicable to linux (ATT&CK platforms): no score');
    expect(s.content).toContain('- judged against ATT&CK 18.1');
    expect(s.content).toContain('1. T1003.001 LSASS Memory: detection 72 (also T1003) → collect windows/process\\_access (priority 8; prevalence 4 from OpenCTI: used by 12 intrusion sets (3 within the window))');
  });

  it('never claims a ranking when nothing was tested', () => {
    const none = coverageSummary(request, { ...result, techniques: [], overall: [], gaps: [] });
    expect(none.content).toContain('Nothing was tested: no gap can be ranked.');
  });

  it('has one note id per coverage', () => {
    expect(summaryNoteId(request.coverageId)).toBe(summaryNoteId(request.coverageId));
    expect(summaryNoteId(request.coverageId)).not.toBe(summaryNoteId('security-coverage--other'));
    expect(summaryNoteId(request.coverageId)).toMatch(/^note--[0-9a-f-]{36}$/);
  });
});
