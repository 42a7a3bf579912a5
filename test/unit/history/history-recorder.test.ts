import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createSqliteHistoryStore } from '../../../src/adapters/history';
import type { MarkAction, RegressionMarker, RegressionNoteText } from '../../../src/adapters/opencti/regression-api';
import { createHistoryMetrics } from '../../../src/app/history/history-metrics';
import { createHistoryRecorder } from '../../../src/app/history/history-recorder';
import { createLogger } from '../../../src/app/logger';
import type { CoverageRunRecord } from '../../../src/app/run-record';
import type { HistoryStore } from '../../../src/domain/history/history-ports';
import type { EvidenceSet } from '../../../src/domain/evidence/evidence-types';
import { coverageRequest } from '../../support/coverage-request';
import { assessWith, edits, evidenceWith, LSASS_RULE, TECHNIQUES } from '../../support/history-fixtures';
import { describeWithShared } from '../../support/env';
import { createRegressionApi } from '../../../src/adapters/opencti/regression-api';
import { COVERAGE_ID, loadMarkSchema, stubPlatform } from '../../support/opencti-marks-stub';
import { sample } from '../../support/prometheus';

/**
 * The daemon's recorder over a real (in-memory SQLite) store: a rule disabled, then a data source
 * dropped, then both restored gives two regressions with their causes, warn lines, counters, one
 * mark per transition (never on the re-triggered run that follows), then recoveries and the mark cleared.
 */

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const INTERNAL = '3f7d1a52-9a55-4c1b-9a83-1b9f2f0c1e11';

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('debug', stream), lines };
}

/** Records what it was asked; the platform state is whatever it was last synced to. */
function fakeMarker() {
  const calls: Array<RegressionNoteText | null> = [];
  let fail = false;
  const marker: RegressionMarker = {
    async sync(_coverage, note) {
      if (fail) throw new Error('OpenCTI unavailable');
      calls.push(note);
      const actions: MarkAction[] = note ? ['label-added', 'note-added'] : ['label-removed', 'note-deleted'];
      return { found: true, actions };
    },
  };
  return { marker, calls, failNext: (v: boolean) => void (fail = v) };
}

let day = 0;
async function runOf(evidence: EvidenceSet, extra: Partial<CoverageRunRecord> = {}): Promise<CoverageRunRecord> {
  const runAt = new Date(Date.UTC(2026, 1, 1 + day++, 9));
  return {
    coverageId: COVERAGE,
    coverageInternalId: INTERNAL,
    coverageName: 'APT-X campaign report',
    runAt,
    outcome: 'pushed',
    request: coverageRequest(TECHNIQUES),
    result: await assessWith(evidence, TECHNIQUES, runAt),
    ...extra,
  };
}

describe('history recorder', () => {
  let store: HistoryStore;
  beforeEach(() => {
    store = createSqliteHistoryStore(':memory:', { maxRunsPerCoverage: 100 });
  });
  afterEach(async () => {
    await store.close();
  });

  it('rule disabled, data source dropped, both restored: two regressions, marks on transitions only, then recovery', async () => {
    const { log, lines } = logCapture();
    const registry = new Registry();
    const { marker, calls } = fakeMarker();
    const recorder = createHistoryRecorder({ store, log, threshold: 10, retentionDays: 400, marker, label: 'coverage-regression', metrics: createHistoryMetrics(registry) });
    const regressionLines = () => lines.filter((l) => l.level === 40 && String(l.msg).startsWith('coverage regression'));

    await recorder.record(await runOf(evidenceWith()));
    expect(calls).toEqual([]);

    // 1. A rule is disabled: T1003.001 regresses.
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE))));
    const first = regressionLines().filter((l) => l.technique === 'T1003.001');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ coverage_id: COVERAGE, coverage_name: 'APT-X campaign report', technique: 'T1003.001', score: 'DETECTION', cause: 'rule "LSASS Memory Access" disabled', causes: ['rule-disabled'] });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.content).toContain('T1003.001');
    expect(calls[0]?.content).toContain('rule "LSASS Memory Access" disabled');

    // The label change re-triggers the enrichment: same evidence, nothing to mark.
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE)), { outcome: 'unchanged' }));
    expect(calls).toHaveLength(1);

    // 2. A data source is dropped: T1059.001 regresses, the note is updated once.
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE), edits.stopCollecting('windows/ps_script'))));
    const second = regressionLines().filter((l) => l.technique === 'T1059.001');
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ technique: 'T1059.001', score: 'DETECTION', causes: ['data-source-lost'], cause: 'data source windows/ps_script no longer collected' });
    expect(calls).toHaveLength(2);
    expect(calls[1]?.content).toContain('T1059.001');
    expect(calls[1]?.content).toContain('T1003.001');
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE), edits.stopCollecting('windows/ps_script')), { outcome: 'unchanged' }));
    expect(calls).toHaveLength(2);

    let text = await registry.metrics();
    expect(sample(text, 'coverage_connector_regressions_total', 'scope="technique",score="DETECTION",cause="rule-disabled"')).toBe(1);
    expect(sample(text, 'coverage_connector_regressions_total', 'scope="technique",score="DETECTION",cause="data-source-lost"')).toBe(1);
    expect(sample(text, 'coverage_connector_coverages_in_regression')).toBe(1);

    // 3. Both restored: every regression recovers and the mark is cleared, once.
    await recorder.record(await runOf(evidenceWith()));
    expect(calls).toHaveLength(3);
    expect(calls[2]).toBeNull();
    expect((await store.state(COVERAGE))?.open).toEqual([]);
    const recovered = lines.filter((l) => String(l.msg).startsWith('coverage recovered'));
    expect(recovered.map((l) => l.technique).filter(Boolean).sort()).toEqual(['T1003.001', 'T1059.001']);
    await recorder.record(await runOf(evidenceWith(), { outcome: 'unchanged' }));
    expect(calls).toHaveLength(3);

    text = await registry.metrics();
    expect(sample(text, 'coverage_connector_recoveries_total', 'scope="technique",score="DETECTION",reason="recovered"')).toBe(2);
    expect(sample(text, 'coverage_connector_coverages_in_regression')).toBe(0);
    const runs = await store.runs(COVERAGE);
    expect(runs).toHaveLength(7);
    // Newest first: the two transitions that opened regressions, the one that closed them.
    expect(runs.map((r) => r.changes.regressions.length > 0)).toEqual([false, false, false, true, false, true, false]);
    expect(runs.map((r) => r.changes.recoveries.length > 0)).toEqual([false, true, false, false, false, false, false]);
  });

  it('a mark that could not be written is retried at the next run of the coverage', async () => {
    const { log, lines } = logCapture();
    const { marker, calls, failNext } = fakeMarker();
    const recorder = createHistoryRecorder({ store, log, threshold: 10, retentionDays: 400, marker, label: 'coverage-regression' });
    await recorder.record(await runOf(evidenceWith()));
    failNext(true);
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE))));
    expect(calls).toHaveLength(0);
    expect(lines.some((l) => l.level === 40 && l.msg === 'regression mark not written to OpenCTI; retried at the next run of this coverage')).toBe(true);
    failNext(false);
    await recorder.record(await runOf(evidenceWith(edits.disableRule(LSASS_RULE)), { outcome: 'unchanged' }));
    expect(calls).toHaveLength(1);
    expect((await store.state(COVERAGE))?.markedNote).toBe(calls[0]?.content);
  });

  it('keeps no history of runs made inside a draft', async () => {
    const { log } = logCapture();
    const recorder = createHistoryRecorder({ store, log, threshold: 10, retentionDays: 400, label: 'coverage-regression' });
    await recorder.record(await runOf(evidenceWith(), { draftId: 'draft-1' }));
    expect(await store.runs(COVERAGE)).toEqual([]);
  });

  it('prunes runs older than the retention, at most once an hour', async () => {
    const { log } = logCapture();
    let now = new Date('2026-06-01T00:00:00Z');
    const recorder = createHistoryRecorder({ store, log, threshold: 10, retentionDays: 30, label: 'coverage-regression', clock: () => now });
    const old = await runOf(evidenceWith());
    await store.append({ coverageId: COVERAGE, runAt: new Date('2026-01-01T00:00:00Z'), outcome: 'pushed', snapshot: { backend: 'embedded', overall: {}, techniques: [] } }, () => ({
      changes: { first: true, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] },
      open: [],
    }));
    await recorder.record({ ...old, runAt: now });
    await recorder.flush();
    expect((await store.runs(COVERAGE)).map((r) => r.runAt)).toEqual([now.toISOString()]);
    now = new Date('2026-06-01T00:10:00Z');
    await store.append({ coverageId: 'security-coverage--other', runAt: new Date('2026-01-01T00:00:00Z'), outcome: 'pushed', snapshot: { backend: 'embedded', overall: {}, techniques: [] } }, () => ({
      changes: { first: true, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] },
      open: [],
    }));
    await recorder.record({ ...old, runAt: now });
    await recorder.flush();
    expect(await store.runs('security-coverage--other')).toHaveLength(1);
  });
});

describeWithShared('history recorder marking a coverage through the GraphQL documents', () => {
  it('each transition writes the coverage once and the re-triggered run writes nothing (no loop)', async () => {
    const store = createSqliteHistoryStore(':memory:', { maxRunsPerCoverage: 100 });
    const platform = stubPlatform(loadMarkSchema('opencti-schema-7.260817.graphql'));
    const { log } = logCapture();
    const recorder = createHistoryRecorder({ store, log, threshold: 10, retentionDays: 400, marker: createRegressionApi({ gql: platform.gql }), label: 'coverage-regression' });
    let runs = 0;
    /** One enrichment, then one more for every coverage write (auto_update), with the same evidence. */
    async function enrich(evidence: EvidenceSet): Promise<void> {
      for (let pending = 1; pending > 0 && runs < 50; pending--) {
        const before = platform.coverageWrites;
        runs += 1;
        await recorder.record({ ...(await runOf(evidence)), coverageInternalId: COVERAGE_ID });
        pending += platform.coverageWrites - before;
      }
    }
    try {
      await enrich(evidenceWith());
      expect([runs, platform.coverageWrites]).toEqual([1, 0]);
      await enrich(evidenceWith(edits.disableRule(LSASS_RULE)));
      expect([runs, platform.coverageWrites, platform.coverageLabelValues(), platform.notes.size]).toEqual([3, 1, ['coverage-regression'], 1]);
      await enrich(evidenceWith(edits.disableRule(LSASS_RULE), edits.stopCollecting('windows/ps_script')));
      // The second regression only rewrites the note: the coverage is not touched, nothing re-triggers.
      expect([runs, platform.coverageWrites, platform.notes.size]).toEqual([4, 1, 1]);
      expect([...platform.notes.values()][0].content).toContain('data source windows/ps_script no longer collected');
      await enrich(evidenceWith());
      expect([runs, platform.coverageWrites, platform.coverageLabelValues(), platform.notes.size]).toEqual([6, 2, [], 0]);
    } finally {
      await store.close();
    }
  });
});
