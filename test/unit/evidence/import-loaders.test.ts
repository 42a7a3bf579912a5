import { loadImportedScores } from '../../../src/adapters/evidence';
import { latestDettectScore, loadDettectFile, loadImportFile, loadNavigatorLayers, normaliseLayerScore } from '../../../src/adapters/evidence/import-loaders';
import { fixturePath, fixtureText } from './fixtures';

describe('ATT&CK Navigator layers', () => {
  it('normalises scores on the layer gradient, keeps the best score per technique and leaves unscored ones without a value', () => {
    const { scores, issues } = loadNavigatorLayers(fixtureText('layers/detection-layer.json'), 'layer.json');
    const origin = 'layer.json#SOC detection estimate';
    expect(scores).toEqual([
      { techniqueId: 'T1059.001', source: 'navigator', detection: 80, comment: 'EDR + script block logging', origin },
      { techniqueId: 'T1003', source: 'navigator', detection: 100, origin },
      { techniqueId: 'T1105', source: 'navigator', comment: 'not assessed yet', origin },
      { techniqueId: 'T1021.001', source: 'navigator', origin },
      { techniqueId: 'T1566', source: 'navigator', detection: 100, origin },
    ]);
    expect(issues).toEqual([{ path: 'layer.json', reason: expect.stringMatching(/^navigator: techniques\[6\]: techniqueID: expected an ATT&CK technique id/) }]);
  });

  it('reads a file holding a list of layers and reports only the invalid layer', () => {
    const { scores, issues } = loadNavigatorLayers(fixtureText('layers/two-layers.json'), 'list.json');
    expect(scores).toEqual([{ techniqueId: 'T1047', source: 'navigator', detection: 60, origin: 'list.json#Default gradient layer' }]);
    expect(issues).toEqual([{ path: 'list.json[1]', reason: expect.stringMatching(/^navigator: domain: /) }]);
  });

  it('rejects layers of another format version or with an inverted gradient', () => {
    const layer = (extra: object) => JSON.stringify({ name: 'L', domain: 'enterprise-attack', techniques: [], ...extra });
    expect(loadNavigatorLayers(layer({ versions: { navigator: '4.3', layer: '3.0' } }), 'l.json').issues[0].reason).toMatch(/^navigator: versions\.layer: expected layer format version 4\.x/);
    expect(loadNavigatorLayers(layer({ gradient: { colors: ['#000', '#fff'], minValue: 5, maxValue: 1 } }), 'l.json').issues[0].reason).toMatch(/maxValue must be greater/);
    expect(loadNavigatorLayers('{"name": ', 'l.json').issues[0].reason).toMatch(/^json: invalid/);
  });

  it('maps a score onto 0-100 from any gradient', () => {
    expect(normaliseLayerScore(50)).toBe(50);
    expect(normaliseLayerScore(1, 1, 4)).toBe(0);
    expect(normaliseLayerScore(2, 1, 4)).toBe(33.33);
    expect(normaliseLayerScore(-3, 0, 10)).toBe(0);
  });
});

describe('DeTT&CT technique administration', () => {
  it('takes the latest logbook entry per applicable_to entry and the best across entries', () => {
    const { scores, issues } = loadDettectFile(fixtureText('layers/dettect-small.yaml'), 'd.yaml');
    expect(scores).toEqual([
      { techniqueId: 'T1059.001', source: 'dettect', detection: 80, visibility: 50, comment: 'EDR rule', origin: 'd.yaml' },
      { techniqueId: 'T1003', source: 'dettect', visibility: 0, origin: 'd.yaml' },
    ]);
    expect(issues).toEqual([{ path: 'd.yaml', reason: expect.stringMatching(/^dettect: techniques\[2\]: detection.*score must be -1\.\.5/) }]);
  });

  it('treats a logbook entry without a date as the oldest', () => {
    expect(latestDettectScore({ score_logbook: [{ date: null, score: 4 }, { date: '2020-01-01', score: 1 }] })?.score).toBe(1);
    expect(latestDettectScore({ score_logbook: [{ date: null, score: 3 }] })?.score).toBe(3);
    expect(latestDettectScore(undefined)).toBeUndefined();
  });

  it('routes layer files by extension and file_type', async () => {
    expect(loadImportFile(fixtureText('layers/not-dettect.yaml'), 'n.yaml')).toEqual({
      scores: [],
      issues: [{ path: 'n.yaml', reason: 'dettect: file_type is not technique-administration' }],
    });
    const all = await loadImportedScores([fixturePath('layers')]);
    expect(all.scores.map((s) => `${s.source}:${s.techniqueId}`).sort()).toEqual(
      ['dettect:T1003', 'dettect:T1059.001', 'navigator:T1003', 'navigator:T1021.001', 'navigator:T1047', 'navigator:T1059.001', 'navigator:T1105', 'navigator:T1566'].sort(),
    );
    expect(all.issues).toHaveLength(4);
  });
});
