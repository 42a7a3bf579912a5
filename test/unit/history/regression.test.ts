import type { OpenRegression, RunSnapshot } from '../../../src/domain/history/history-types';
import { compareRuns } from '../../../src/domain/history/regression';
import { snapshotOf } from '../../../src/domain/history/snapshot';
import { assessWith, edits, evidenceWith, LSASS_RULE, PROCDUMP_RULE, TECHNIQUES } from '../../support/history-fixtures';

const T0 = '2026-02-10T09:00:00.000Z';
const T1 = '2026-02-11T09:00:00.000Z';

async function snap(...changes: Parameters<typeof evidenceWith>): Promise<RunSnapshot> {
  return snapshotOf(await assessWith(evidenceWith(...changes)));
}

const technique = (s: RunSnapshot, id: string) => s.techniques.find((t) => t.id === id)!;
const kinds = (r: { causes: Array<{ kind: string }> }) => r.causes.map((c) => c.kind);

describe('regression detection', () => {
  let base: RunSnapshot;
  beforeAll(async () => {
    base = await snap();
  });

  it('the estate scores both techniques and records their evidence', () => {
    const lsass = technique(base, 'T1003.001');
    expect(lsass.detection).toBeGreaterThanOrEqual(75);
    expect(lsass.prevention).toBe(100);
    expect(lsass.evidence?.rules.map((r) => [r.id, r.state])).toEqual([
      [LSASS_RULE, 'counted'],
      [PROCDUMP_RULE, 'counted'],
    ]);
    expect(lsass.evidence?.dataSources).toEqual([{ id: 'windows/process_access', collected: true }]);
    expect(lsass.evidence?.emulation).toEqual({ outcome: 'detected', date: '2026-01-15', test: 'Atomic T1003.001-1' });
    expect(lsass.evidence?.controls).toEqual([{ id: 'edr-lsass', name: 'EDR credential theft protection', mode: 'block', validated: true }]);
  });

  it('the first run has nothing to compare with', () => {
    const { changes, open } = compareRuns({ current: base, open: [], threshold: 10, runAt: T0 });
    expect(changes.first).toBe(true);
    expect(changes.regressions).toEqual([]);
    expect(open).toEqual([]);
  });

  it('an identical run changes nothing, whether it is the same snapshot object or an equal copy', () => {
    const none = { first: false, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] };
    for (const current of [base, JSON.parse(JSON.stringify(base)) as RunSnapshot]) {
      const { changes, open } = compareRuns({ previous: base, current, open: [], threshold: 10, runAt: T1 });
      expect(changes).toEqual(none);
      expect(open).toEqual([]);
    }
  });

  it('a disabled rule is a regression of the technique named by the rule', async () => {
    const next = await snap(edits.disableRule(LSASS_RULE));
    const { changes, open } = compareRuns({ previous: base, current: next, open: [], threshold: 10, runAt: T1 });
    const regression = changes.regressions.find((r) => r.techniqueId === 'T1003.001' && r.score === 'DETECTION')!;
    expect(regression.from).toBe(technique(base, 'T1003.001').detection);
    expect(regression.to).toBe(technique(next, 'T1003.001').detection);
    expect(regression.causes).toEqual([{ kind: 'rule-disabled', techniqueId: 'T1003.001', subject: LSASS_RULE, text: 'rule "LSASS Memory Access" disabled' }]);
    expect(regression.since).toBe(T1);
    expect(open).toContainEqual(regression);
    // The other technique did not move, and prevention did not either.
    expect(changes.regressions.some((r) => r.techniqueId === 'T1059.001' || r.score === 'PREVENTION')).toBe(false);
  });

  it('names removed and deprecated rules', async () => {
    const removed = compareRuns({ previous: base, current: await snap(edits.removeRule(LSASS_RULE)), open: [], threshold: 10, runAt: T1 });
    expect(kinds(removed.changes.regressions.find((r) => r.techniqueId === 'T1003.001')!)).toEqual(['rule-removed']);
    const deprecated = compareRuns({ previous: base, current: await snap(edits.deprecateRule(LSASS_RULE)), open: [], threshold: 10, runAt: T1 });
    expect(kinds(deprecated.changes.regressions.find((r) => r.techniqueId === 'T1003.001')!)).toEqual(['rule-deprecated']);
  });

  it('a data source no longer collected is named', async () => {
    const next = await snap(edits.stopCollecting('windows/process_access'));
    const { changes } = compareRuns({ previous: base, current: next, open: [], threshold: 10, runAt: T1 });
    const regression = changes.regressions.find((r) => r.techniqueId === 'T1003.001' && r.score === 'DETECTION')!;
    expect(regression.causes).toEqual([{ kind: 'data-source-lost', techniqueId: 'T1003.001', subject: 'windows/process_access', text: 'data source windows/process_access no longer collected' }]);
  });

  it('a worse emulation outcome lowers detection and prevention with the same cause', async () => {
    const prevented = await snap(edits.emulation('prevented'));
    const none = await snap(edits.emulation('prevented'), edits.emulation('none', '2026-02-05'));
    const { changes } = compareRuns({ previous: prevented, current: none, open: [], threshold: 10, runAt: T1 });
    const detection = changes.regressions.find((r) => r.techniqueId === 'T1003.001' && r.score === 'DETECTION')!;
    expect(kinds(detection)).toEqual(['emulation-worse']);
    expect(detection.causes[0].text).toBe('emulation "Atomic T1003.001-1" outcome prevented (2026-02-01) → none (2026-02-05)');
  });

  it('a control switched to audit or disabled explains a prevention drop', async () => {
    const audit = compareRuns({ previous: base, current: await snap(edits.controlMode('edr-lsass', 'audit')), open: [], threshold: 10, runAt: T1 });
    const prevention = audit.changes.regressions.find((r) => r.techniqueId === 'T1003.001' && r.score === 'PREVENTION')!;
    expect(prevention).toMatchObject({ from: 100, to: 25 });
    expect(prevention.causes[0]).toMatchObject({ kind: 'control-audit', subject: 'edr-lsass', text: 'control "EDR credential theft protection" switched to audit (was block)' });
    const disabled = compareRuns({ previous: base, current: await snap(edits.controlMode('edr-lsass', 'disabled')), open: [], threshold: 10, runAt: T1 });
    expect(kinds(disabled.changes.regressions.find((r) => r.techniqueId === 'T1003.001' && r.score === 'PREVENTION')!)).toEqual(['control-disabled']);
  });

  it('a technique added to the container lowers the coverage score and is named', async () => {
    const bigger = snapshotOf(await assessWith(evidenceWith(), [...TECHNIQUES, 'T1486']));
    const { changes } = compareRuns({ previous: base, current: bigger, open: [], threshold: 10, runAt: T1 });
    expect(changes.added.map((a) => a.id)).toEqual(['T1486']);
    const coverage = changes.regressions.find((r) => !r.techniqueId && r.score === 'DETECTION')!;
    expect(coverage.causes).toEqual([{ kind: 'technique-added', techniqueId: 'T1486', subject: 'T1486', text: 'T1486 added to the container with DETECTION 0' }]);
  });

  it('a drop below the threshold is a score change, not a regression', async () => {
    const next = await snap(edits.disableRule(PROCDUMP_RULE));
    const lsassBefore = technique(base, 'T1003.001').detection!;
    const lsassAfter = technique(next, 'T1003.001').detection!;
    expect(lsassBefore - lsassAfter).toBeGreaterThan(0);
    const { changes } = compareRuns({ previous: base, current: next, open: [], threshold: lsassBefore - lsassAfter + 1, runAt: T1 });
    expect(changes.regressions).toEqual([]);
    expect(changes.scoreChanges).toContainEqual({ techniqueId: 'T1003.001', score: 'DETECTION', from: lsassBefore, to: lsassAfter, causes: [expect.objectContaining({ kind: 'rule-disabled', subject: PROCDUMP_RULE })] });
  });

  it('two causes, then recovery of both when the evidence is restored', async () => {
    const ruleOff = await snap(edits.disableRule(LSASS_RULE));
    const first = compareRuns({ previous: base, current: ruleOff, open: [], threshold: 10, runAt: T1 });
    const bothOff = await snap(edits.disableRule(LSASS_RULE), edits.stopCollecting('windows/process_access'));
    const second = compareRuns({ previous: ruleOff, current: bothOff, open: first.open, threshold: 10, runAt: '2026-02-12T09:00:00.000Z' });
    // Already open: the further drop adds its cause to the same regression instead of opening another.
    const open = second.open.find((r) => r.techniqueId === 'T1003.001' && r.score === 'DETECTION')!;
    expect(open.from).toBe(technique(base, 'T1003.001').detection);
    expect(open.since).toBe(T1);
    expect(kinds(open)).toEqual(['rule-disabled', 'data-source-lost']);
    expect(second.changes.regressions.filter((r) => r.techniqueId === 'T1003.001')).toEqual([]);

    const restored = await snap();
    const third = compareRuns({ previous: bothOff, current: restored, open: second.open, threshold: 10, runAt: '2026-02-13T09:00:00.000Z' });
    expect(third.open).toEqual([]);
    const recovery = third.changes.recoveries.find((r) => r.techniqueId === 'T1003.001' && r.score === 'DETECTION')!;
    expect(recovery).toMatchObject({ reason: 'recovered', from: open.from, to: technique(restored, 'T1003.001').detection, since: T1 });
    expect(kinds(recovery).sort()).toEqual(['data-source-collected', 'rule-enabled']);
  });

  it('stays open while the score is still lower than the threshold allows', () => {
    const at = (d: number): RunSnapshot => ({ backend: 'embedded', overall: { DETECTION: d }, techniques: [] });
    const open: OpenRegression[] = [{ score: 'DETECTION', from: 80, to: 40, since: T0, causes: [] }];
    const partial = compareRuns({ previous: at(40), current: at(70), open, threshold: 10, runAt: T1 });
    expect(partial.changes.recoveries).toEqual([]);
    expect(partial.open).toEqual([{ score: 'DETECTION', from: 80, to: 70, since: T0, causes: [] }]);
    const back = compareRuns({ previous: at(70), current: at(71), open: partial.open, threshold: 10, runAt: T1 });
    expect(back.changes.recoveries).toEqual([{ score: 'DETECTION', from: 80, to: 71, since: T0, reason: 'recovered', causes: [] }]);
    expect(back.open).toEqual([]);
  });

  it('a score that is no longer measured is a drop', () => {
    const previous: RunSnapshot = { backend: 'embedded', overall: { DETECTION: 60 }, techniques: [{ id: 'T1003', detection: 60, rules: ['r1'], controls: [] }] };
    const current: RunSnapshot = { backend: 'embedded', overall: {}, techniques: [{ id: 'T1003', rules: [], controls: [] }] };
    const { changes } = compareRuns({ previous, current, open: [], threshold: 10, runAt: T1 });
    const t = changes.regressions.find((r) => r.techniqueId === 'T1003')!;
    expect(t).toEqual({ techniqueId: 'T1003', score: 'DETECTION', from: 60, since: T1, causes: [{ kind: 'rule-not-counted', techniqueId: 'T1003', subject: 'r1', text: 'rule r1 no longer counted (removed, disabled or deprecated)' }] });
  });

  it('an unexplained drop says so', () => {
    const previous: RunSnapshot = { backend: 'openaev', overall: {}, techniques: [{ id: 'T1003', detection: 90, source: 'openaev', rules: [], controls: [] }] };
    const current: RunSnapshot = { backend: 'openaev', overall: {}, techniques: [{ id: 'T1003', detection: 20, source: 'openaev', rules: [], controls: [] }] };
    const { changes } = compareRuns({ previous, current, open: [], threshold: 10, runAt: T1 });
    expect(kinds(changes.regressions[0])).toEqual(['unexplained']);
  });

  it('a regression of a technique that leaves the container ends with it', async () => {
    const ruleOff = await snap(edits.disableRule(LSASS_RULE));
    const first = compareRuns({ previous: base, current: ruleOff, open: [], threshold: 10, runAt: T1 });
    const without = snapshotOf(await assessWith(evidenceWith(edits.disableRule(LSASS_RULE)), ['T1059.001']));
    const second = compareRuns({ previous: ruleOff, current: without, open: first.open, threshold: 10, runAt: '2026-02-12T09:00:00.000Z' });
    expect(second.changes.removed).toEqual(['T1003.001']);
    const ended = second.changes.recoveries.filter((r) => r.techniqueId === 'T1003.001');
    expect(ended.length).toBe(first.open.filter((o) => o.techniqueId === 'T1003.001').length);
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((r) => r.reason === 'technique-removed')).toBe(true);
    expect(second.open.some((o) => o.techniqueId === 'T1003.001')).toBe(false);
  });

  it('evidence changes that move no score are kept as quiet changes', async () => {
    // A second blocking control adds nothing to a validated block: prevention stays 100.
    const extra = await snap((e) => void e.controls.push({ id: 'asr-lsass', name: 'ASR LSASS rule', mode: 'block', techniques: ['T1003.001'], mitigations: [] }));
    const { changes } = compareRuns({ previous: base, current: extra, open: [], threshold: 10, runAt: T1 });
    expect(changes.scoreChanges).toEqual([]);
    expect(changes.quietChanges).toEqual([{ kind: 'control-added', techniqueId: 'T1003.001', subject: 'asr-lsass', text: 'control "ASR LSASS rule" added (block)' }]);
  });
});
