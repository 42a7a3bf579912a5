import { actionOf, dimensionOf, exposureOf, feasibilityOf, rankGaps, type GapCandidate } from '../../../src/domain/gaps/gap-list';
import { impactOf, prevalenceOf, priorityTables, rankedPrevalence } from '../../../src/domain/gaps/gap-priorities';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { control, evidence, NOW, request, rule } from '../scoring/evidence-fixtures';

const candidate = (overrides: Partial<GapCandidate> & { techniqueId: string }): GapCandidate => ({
  tactics: [],
  dormantRules: 0,
  weakControls: 0,
  neededSources: [],
  missingSources: [],
  ...overrides,
});

describe('Gap priorities', () => {
  const tables = priorityTables();

  it('reads prevalence per technique, a parent value covering its sub-techniques, else the default 5', () => {
    expect(prevalenceOf('T1059', tables)).toBe(10);
    expect(prevalenceOf('T1059.001', tables)).toBe(10);
    expect(prevalenceOf('T1614', tables)).toBe(5);
  });

  it('takes the highest impact among the technique\'s tactics, else the default 5', () => {
    expect(impactOf('T1055', ['defense-evasion', 'privilege-escalation'], tables)).toBe(7);
    expect(impactOf('T1486', ['impact'], tables)).toBe(10);
    expect(impactOf('T1001', [], tables)).toBe(5);
  });

  it('lets overrides replace single entries and keeps the rest of the tables', () => {
    const custom = priorityTables({ prevalence: { t1082: 9 }, tacticImpact: { Discovery: 8 }, techniqueImpact: { T1486: 4 }, defaultPrevalence: 2, defaultImpact: 1 });
    expect(prevalenceOf('T1082', custom)).toBe(9);
    expect(prevalenceOf('T1059', custom)).toBe(10);
    expect(prevalenceOf('T1614', custom)).toBe(2);
    expect(impactOf('T1082', ['discovery'], custom)).toBe(8);
    expect(impactOf('T1486', ['impact'], custom)).toBe(4);
    expect(impactOf('T1001', [], custom)).toBe(1);
  });

  it('clamps override values to 0-10', () => {
    expect(prevalenceOf('T1001', priorityTables({ prevalence: { T1001: 42 } }))).toBe(10);
  });
});

describe('Feasibility', () => {
  it('is 3 + 6 × the collected share of the needed sources, 5 when unknown', () => {
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, collectedShare: 0 }))).toBe(3);
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, collectedShare: 0.5 }))).toBe(6);
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, collectedShare: 1 }))).toBe(9);
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, neededSources: ['a'], missingSources: ['a'] }))).toBe(5);
  });

  it('rises to 9 when a dormant rule with collected data could close a detection gap', () => {
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 10, dormantRules: 1, collectedShare: 0 }))).toBe(9);
  });

  it('is 8 for a prevention gap with an audit-only or disabled control, else 4, whatever the data', () => {
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 90, prevention: 25, weakControls: 1 }))).toBe(8);
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 90, prevention: 0, collectedShare: 1, dormantRules: 3 }))).toBe(4);
  });

  it('takes the easier of the two when both types are gaps', () => {
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, prevention: 0, collectedShare: 0 }))).toBe(4);
    expect(feasibilityOf(candidate({ techniqueId: 'T1', detection: 0, prevention: 0, collectedShare: 1 }))).toBe(9);
  });
});

describe('Gap list', () => {
  it('keeps techniques under 50 for a measured type, ranked by priority × exposure then lowest detection', () => {
    const gaps = rankGaps(
      [
        candidate({ techniqueId: 'T1082', tactics: ['discovery'], detection: 0 }), // 5 × 3 × 5 × 1 = 75
        candidate({ techniqueId: 'T1486', tactics: ['impact'], detection: 40 }), // 7 × 10 × 5 × 0.6 = 210
        candidate({ techniqueId: 'T1490', tactics: ['impact'], detection: 10 }), // 7 × 10 × 5 × 0.9 = 315
        candidate({ techniqueId: 'T1059', tactics: ['execution'], detection: 80 }), // not a gap
        candidate({ techniqueId: 'T1003', tactics: ['credential-access'], detection: 90, prevention: 0 }), // prevention gap, well detected: 9 × 8 × 4 × 0.1 = 28.8
      ],
      priorityTables(),
    );
    expect(gaps.map((g) => [g.techniqueId, g.priority])).toEqual([
      ['T1490', 315],
      ['T1486', 210],
      ['T1082', 75],
      ['T1003', 29],
    ]);
    expect(gaps[3]).toMatchObject({ prevalence: 9, impact: 8, feasibility: 4, exposure: 0.1, detection: 90, prevention: 0, dimension: 'prevention' });
  });

  it('ranks a technique detected at 99 with an audit-only control below an undetected one', () => {
    const gaps = rankGaps(
      [
        candidate({ techniqueId: 'T1059', tactics: ['execution'], detection: 99, prevention: 25, weakControls: 1, weakControl: { name: 'AppLocker script rules', mode: 'audit' } }),
        candidate({ techniqueId: 'T1021.001', tactics: ['lateral-movement'], detection: 30, prevention: 0, dormantRules: 1, disabledRule: 'RDP from workstation' }),
      ],
      priorityTables(),
    );
    expect(gaps.map((g) => g.techniqueId)).toEqual(['T1021.001', 'T1059']);
    expect(gaps[1]).toMatchObject({ dimension: 'prevention', action: 'switch control "AppLocker script rules" from audit to block', priority: 4 });
    expect(gaps[0]).toMatchObject({ dimension: 'detection', action: 'enable rule "RDP from workstation"', feasibility: 9 });
  });

  it('names the dimension under the threshold, the cheaper one when both are, and says what to do', () => {
    const both = candidate({ techniqueId: 'T1', detection: 10, prevention: 0, collectedShare: 0, mitigations: ['M1038', 'M1042'] });
    expect(dimensionOf(both)).toBe('prevention'); // 4 to deploy a control beats 3 to collect data and write a rule
    expect(actionOf(both, 'prevention')).toBe('add a prevention control (ATT&CK mitigations M1038, M1042)');
    expect(dimensionOf({ ...both, collectedShare: 1 })).toBe('detection');
    expect(dimensionOf(candidate({ techniqueId: 'T1', prevention: 0 }))).toBe('prevention'); // detection not measured
    expect(dimensionOf(candidate({ techniqueId: 'T1', detection: 80, prevention: 25 }))).toBe('prevention');
    expect(actionOf(candidate({ techniqueId: 'T1', detection: 0, usableRules: 1, starvedRule: { title: 'LSASS read', source: 'windows/process_access' } }), 'detection')).toBe(
      'collect windows/process_access (rule "LSASS read" depends on it)',
    );
    expect(actionOf(candidate({ techniqueId: 'T1', detection: 40, usableRules: 2, validated: false }), 'detection')).toBe('validate the rules with an emulation');
    expect(actionOf(candidate({ techniqueId: 'T1', detection: 0, usableRules: 0, collectedShare: 0.5, missingSources: ['Process: Process Access'], detectionPlatforms: ['linux'] }), 'detection')).toBe(
      'write or enable a detection rule on linux, collecting Process: Process Access',
    );
    expect(actionOf(candidate({ techniqueId: 'T1', prevention: 0, weakControl: { name: 'RDP GPO', mode: 'disabled' } }), 'prevention')).toBe('enable control "RDP GPO" in block mode');
  });

  it('reads exposure as what neither type covers, an unmeasured type covering nothing', () => {
    expect(exposureOf(candidate({ techniqueId: 'T1', detection: 99, prevention: 25 }))).toBeCloseTo(0.0075);
    expect(exposureOf(candidate({ techniqueId: 'T1', detection: 30 }))).toBeCloseTo(0.7);
    expect(exposureOf(candidate({ techniqueId: 'T1', prevention: 75 }))).toBeCloseTo(0.25);
  });

  it('lists a parent and its sub-technique once: the sub-technique stands for the parent', () => {
    const gaps = rankGaps(
      [
        candidate({ techniqueId: 'T1059', tactics: ['execution'], detection: 20 }),
        candidate({ techniqueId: 'T1059.001', tactics: ['execution'], detection: 10 }),
        candidate({ techniqueId: 'T1059.003', tactics: ['execution'], detection: 0 }),
        candidate({ techniqueId: 'T1003', tactics: ['credential-access'], detection: 0 }),
      ],
      priorityTables(),
    );
    expect(gaps.map((g) => g.techniqueId)).toEqual(['T1003', 'T1059.003', 'T1059.001']);
    expect(gaps[1].covers).toEqual(['T1059']);
    expect(gaps[2].covers).toBeUndefined();
  });

  it('says where each prevalence came from: the operator, the intelligence, the shipped table', () => {
    const tables = priorityTables({ prevalence: { T1082: 2 } });
    const intelligence = { values: { T1685: 9, T1105: 10 }, describe: (id: string) => `ATT&CK bundle (${id})` };
    expect(rankedPrevalence('T1082', tables, intelligence)).toEqual({ value: 2, source: 'your priorities file' });
    expect(rankedPrevalence('T1105', tables, intelligence)).toEqual({ value: 10, source: 'ATT&CK bundle (T1105)' });
    // Read under another ATT&CK version's id of the same technique.
    expect(rankedPrevalence('T1562.001', tables, intelligence, ['T1685'])).toEqual({ value: 9, source: 'ATT&CK bundle (T1685)' });
    // Used by none of the intelligence's adversaries: the floor, said so.
    expect(rankedPrevalence('T1614', tables, intelligence)).toEqual({ value: 1, source: 'ATT&CK bundle (T1614)' });
    expect(rankedPrevalence('T1059', tables)).toEqual({ value: 10, source: 'shipped table' });
    expect(rankedPrevalence('T1614', tables)).toEqual({ value: 5, source: 'default (not in the shipped table)' });
  });

  it('lists the data sources that would close a gap, from the rules or the catalogue', async () => {
    const ev = evidence({
      rules: [rule({ id: 'lsass', techniques: ['T1003.001'], maturity: 'experimental', dataSources: ['windows/process_access'] })],
      dataSources: [{ id: 'windows/process_access', collected: false, aliases: [] }, { id: 'x', collected: true, aliases: ['process: process creation'] }],
      hasDataSourceInventory: true,
      catalogue: {
        version: '18.1',
        techniques: {
          T1082: { id: 'T1082', name: 'System Information Discovery', tactics: ['discovery'], platforms: [], dataComponents: ['Process: Process Creation', 'Command: Command Execution'], mitigations: [], deprecated: false, revoked: false },
          'T1003.001': { id: 'T1003.001', name: 'LSASS Memory', tactics: ['credential-access'], platforms: [], dataComponents: [], mitigations: [], deprecated: false, revoked: false },
        },
        mitigations: {},
      },
      controls: [control({ id: 'c', mode: 'audit', techniques: ['T1082'] })],
    });
    const result = await createEmbeddedAssessor(ev).assess(request(['T1003.001', 'T1082']), { now: NOW });
    const byId = Object.fromEntries(result.gaps.map((g) => [g.techniqueId, g]));
    // Detection gap with no data collected (3) and a prevention gap without any control (4): the easier, 4.
    expect(byId['T1003.001']).toMatchObject({ missingDataSources: ['windows/process_access'], prevalence: 9, impact: 8, feasibility: 4, priority: 288 });
    // No rule: the catalogue's data components name what to collect; one of the two is already collected.
    expect(byId.T1082).toMatchObject({ missingDataSources: ['Command: Command Execution'], feasibility: 8, detection: 0, prevention: 25 });
  });

  it('uses priority overrides given to the engine', async () => {
    const ev = evidence({ rules: [rule({ id: 'r', techniques: ['T1003'] })] });
    const result = await createEmbeddedAssessor(ev, { priorities: { prevalence: { T1082: 1 }, defaultImpact: 2 } }).assess(request(['T1082']), { now: NOW });
    expect(result.gaps[0]).toMatchObject({ techniqueId: 'T1082', prevalence: 1, impact: 2, feasibility: 5, priority: 10 });
  });
});
