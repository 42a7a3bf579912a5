import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { buildNavigatorLayer } from '../../../src/domain/stix/navigator-layer';
import { coverageRequest } from '../../support/coverage-request';
import { control, evidence, rule } from '../scoring/evidence-fixtures';

/**
 * What the layers look like in the real ATT&CK Navigator (5.1): sub-technique scores visible, no id
 * the Navigator would drop, a legend that matches the drawing, readable tooltips. Built from the
 * real embedded engine so the comment checks follow the engine's own wording.
 */

const NOW = new Date('2026-02-12T09:00:00.000Z');

async function layersFor(techniques: string[], options: { replacements?: Record<string, string> } = {}) {
  const ev = evidence({
    rules: [rule({ id: 'r-ps', techniques: ['T1059.001'] }), rule({ id: 'r-dll', techniques: ['T1574.002'] })],
    controls: [control({ id: 'asr', techniques: ['T1059.001'], mode: 'block' })],
  });
  const request = coverageRequest(techniques);
  const result = await createEmbeddedAssessor(ev).assess(request, { now: NOW });
  return {
    detection: buildNavigatorLayer(request, result, 'DETECTION', options),
    prevention: buildNavigatorLayer(request, result, 'PREVENTION', options),
  };
}

describe('Navigator layers as the Navigator draws them', () => {
  it('opens the parent of every scored sub-technique, adding the parent when the report lacks it', async () => {
    const { detection } = await layersFor(['T1059', 'T1059.001', 'T1003.001', 'T1082']);
    const byId = new Map(detection.techniques.map((t) => [t.techniqueID, t]));
    expect(byId.get('T1059')).toMatchObject({ showSubtechniques: true, score: expect.any(Number) });
    // T1003 is not in the report: an unscored entry only there to show T1003.001.
    expect(byId.get('T1003')).toEqual({ techniqueID: 'T1003', showSubtechniques: true });
    expect(byId.get('T1082')?.showSubtechniques).toBeUndefined();
  });

  it('writes a revoked id as its replacement, and drops it when the replacement is already there', async () => {
    const replacements = { 'T1574.002': 'T1574.001' };
    const alone = (await layersFor(['T1574.002'], { replacements })).detection;
    const ids = alone.techniques.map((t) => t.techniqueID).sort();
    expect(ids).toEqual(['T1574', 'T1574.001']);
    const replaced = alone.techniques.find((t) => t.techniqueID === 'T1574.001')!;
    expect(replaced.comment).toMatch(/^T1574\.002 is revoked in ATT&CK; shown as T1574\.001\n/);
    expect(replaced.score).toEqual(expect.any(Number));

    const both = (await layersFor(['T1574.002', 'T1574.001'], { replacements })).detection;
    expect(both.techniques.filter((t) => t.techniqueID === 'T1574.001')).toHaveLength(1);
    expect(both.techniques.map((t) => t.techniqueID)).not.toContain('T1574.002');
  });

  it('has legend items only for the colours it paints: the gradient stops (disabled cells get no fill)', async () => {
    const { detection } = await layersFor(['T1059.001', 'T1082']);
    expect(detection.legendItems.map((l) => l.color)).toEqual(detection.gradient.colors);
    expect(detection.legendItems.map((l) => l.label).join(' ')).not.toMatch(/disabled|not tested/);
    for (const t of detection.techniques) expect(t).not.toHaveProperty('color');
  });

  it('never repeats "not tested:" in the comment of an untested technique', async () => {
    const request = coverageRequest(['T1082']);
    const result = await createEmbeddedAssessor(evidence()).assess(request, { now: NOW });
    expect(result.techniques[0].why[0]).toMatch(/^not tested: /);
    const entry = buildNavigatorLayer(request, result, 'DETECTION').techniques[0];
    expect(entry).toMatchObject({ enabled: false });
    expect(entry.comment).toMatch(/^not tested: /);
    expect(entry.comment).not.toMatch(/not tested: not tested/);
  });

  it('starts prevention comments with the prevention reason, detection comments with the detection sum', async () => {
    const { detection, prevention } = await layersFor(['T1059.001']);
    expect(prevention.techniques[0].comment).toMatch(/^prevention 75: /);
    expect(detection.techniques[0].comment).toMatch(/^detection \d+ = data source/);
    // The other type's reasons are still there, after.
    expect(prevention.techniques[0].comment).toMatch(/\ndetection \d+ = /);
  });
});
