import type { AssessmentResult } from '../../../src/domain/assessment/assessment-types';
import { buildNavigatorLayer } from '../../../src/domain/stix/navigator-layer';
import { request } from '../scoring/evidence-fixtures';

/** Field sets of the Navigator layer format 4.5 (layerformat-v4.5.md). */
const LAYER_FIELDS = new Set([
  'versions', 'name', 'description', 'domain', 'customDataURL', 'filters', 'sorting', 'layout', 'hideDisabled', 'techniques', 'gradient',
  'legendItems', 'showTacticRowBackground', 'tacticRowBackground', 'selectTechniquesAcrossTactics', 'selectSubtechniquesWithParent',
  'selectVisibleTechniques', 'metadata', 'links',
]);
const VERSION_FIELDS = new Set(['attack', 'navigator', 'layer']);
const TECHNIQUE_FIELDS = new Set(['techniqueID', 'tactic', 'comment', 'enabled', 'score', 'color', 'metadata', 'links', 'showSubtechniques']);
const GRADIENT_FIELDS = new Set(['colors', 'minValue', 'maxValue']);
const LEGEND_FIELDS = new Set(['label', 'color']);
const METADATA_FIELDS = new Set(['name', 'value']);
const LINK_FIELDS = new Set(['label', 'url']);
const LAYOUT_FIELDS = new Set(['layout', 'showID', 'showName', 'showAggregateScores', 'countUnscored', 'aggregateFunction', 'expandedSubtechniques']);

function expectOnly(obj: object, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(obj)) expect(`${where}.${key}: ${allowed.has(key)}`).toBe(`${where}.${key}: true`);
}

const result: AssessmentResult = {
  backend: 'embedded',
  runAt: '2026-02-12T09:00:00.000Z',
  externalUri: 'https://assessor.example.org/run/1',
  overall: [{ name: 'DETECTION', score: 47 }],
  gaps: [],
  warnings: [],
  techniques: [
    {
      techniqueId: 'T1059.001', tested: true, detection: 94, source: 'embedded', rules: ['r1', 'r2'], controls: [],
      detectionParts: { dataSource: 25, ruleQuality: 19, validation: 25, enrichment: 25 }, dataSources: ['windows/process_creation'],
      why: ['detection 94 = …', 'rule quality 19/25: "r1"'], externalUri: 'https://assessor.example.org/run/1',
    },
    { techniqueId: 'T1082', tested: true, detection: 0, source: 'embedded', rules: [], controls: [], why: ['no enabled rule'] },
    { techniqueId: 'T9999', tested: false, source: 'embedded', rules: [], controls: [], why: ['not tested: T9999 is unknown'] },
  ],
};

describe('buildNavigatorLayer (format 4.5)', () => {
  const layer = buildNavigatorLayer(request(['T1059.001', 'T1082', 'T9999']), result, 'DETECTION', { attackVersion: '18' });

  it('emits only fields of the 4.5 format, with the required versions', () => {
    expectOnly(layer, LAYER_FIELDS, 'layer');
    expectOnly(layer.versions, VERSION_FIELDS, 'versions');
    expectOnly(layer.gradient, GRADIENT_FIELDS, 'gradient');
    expectOnly(layer.layout, LAYOUT_FIELDS, 'layout');
    for (const item of layer.legendItems) expectOnly(item, LEGEND_FIELDS, 'legendItems[]');
    for (const m of layer.metadata) expectOnly(m, METADATA_FIELDS, 'metadata[]');
    for (const l of layer.links ?? []) expectOnly(l, LINK_FIELDS, 'links[]');
    for (const t of layer.techniques) {
      expectOnly(t, TECHNIQUE_FIELDS, `techniques[${t.techniqueID}]`);
      for (const m of t.metadata ?? []) {
        expectOnly(m, METADATA_FIELDS, 'technique.metadata[]');
        expect(typeof m.value).toBe('string');
      }
      for (const l of t.links ?? []) expectOnly(l, LINK_FIELDS, 'technique.links[]');
    }
    expect(layer.versions).toEqual({ attack: '18', navigator: '5.1.0', layer: '4.5' });
    expect(layer.domain).toBe('enterprise-attack');
    expect(layer.gradient.maxValue).toBeGreaterThan(layer.gradient.minValue);
  });

  it('scores tested techniques 0-100 with the reasons as the comment and the evidence as metadata', () => {
    const t = layer.techniques[0];
    expect(t).toMatchObject({ techniqueID: 'T1059.001', score: 94, enabled: true });
    expect(t.comment).toBe('detection 94 = …\nrule quality 19/25: "r1"');
    expect(t.metadata).toEqual(
      expect.arrayContaining([
        { name: 'rules', value: '2' },
        { name: 'data sources', value: 'windows/process_creation' },
        { name: 'run time', value: '2026-02-12T09:00:00.000Z' },
      ]),
    );
    expect(layer.techniques[1]).toMatchObject({ techniqueID: 'T1082', score: 0, enabled: true });
  });

  it('disables untested techniques with a comment instead of scoring them 0', () => {
    const t = layer.techniques[2];
    expect(t).toMatchObject({ techniqueID: 'T9999', enabled: false });
    expect(t).not.toHaveProperty('score');
    expect(t.comment).toMatch(/^not tested/);
  });

  it('disables techniques whose type was not measured in a PREVENTION layer', () => {
    const prevention = buildNavigatorLayer(request(['T1059.001']), result, 'PREVENTION');
    expect(prevention.name).toBe('APT-X campaign report — PREVENTION');
    expect(prevention.techniques[0]).toMatchObject({ enabled: false });
    expect(prevention.techniques[0]).not.toHaveProperty('score');
    expect(prevention.techniques[0].comment).toMatch(/^prevention not measured/);
  });

  it('links the run and records the overall score in the layer metadata', () => {
    expect(layer.links).toEqual([{ label: 'Assessment run', url: 'https://assessor.example.org/run/1' }]);
    expect(layer.metadata).toEqual(expect.arrayContaining([{ name: 'overall', value: '47' }]));
  });
});
