import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteHistoryStore } from '../../src/adapters/history/sqlite-history-store';
import { describeWithBroker, PROJECT_DIR } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';
import { noopObserver } from '../../src/app/job-observer';

/**
 * A run whose inputs (rules, container content, what the platform holds) are those of the coverage's
 * last run that wrote nothing is answered without assessing again (src/app/settled-runs.ts): it still
 * closes its work saying "nothing pushed" and goes into the history as a repeat of the same snapshot.
 * Any change of those inputs — a rule file edited and reloaded, a technique added, another writer
 * changing our scores — runs the assessment again.
 */

const EXAMPLES = join(PROJECT_DIR, 'config', 'examples');

describeWithBroker('runs on unchanged inputs (real engine, score history, OpenCTI 7.2608 rules)', () => {
  let h: Harness;
  let dir: string;
  /** Assessments the daemon ran (its job observer). */
  let assessed = 0;

  beforeAll(async () => {
    h = await createHarness({ version: '7.2608', maxPageSize: 50 });
    dir = mkdtempSync(join(tmpdir(), 'settled-runs-'));
    cpSync(join(EXAMPLES, 'rules'), join(dir, 'rules'), { recursive: true });
    cpSync(join(EXAMPLES, 'data-sources.yml'), join(dir, 'data-sources.yml'));
    await h.start({
      assessor: null,
      config: {
        connector: { auto: true, auto_update: true },
        coverage: { rules_dirs: [join(dir, 'rules')], data_sources_file: join(dir, 'data-sources.yml'), watch: true, watch_debounce_ms: 100 },
        history: { enabled: true, sqlite_path: join(dir, 'history.db') },
      },
      daemon: { observer: { ...noopObserver, assessed: () => void (assessed += 1) } },
    });
  });

  afterAll(async () => {
    expect(h.fake.rejected).toEqual([]);
    await h.close();
  });

  /** Work messages of the runs a manual request (validity not lapsed) caused, once the platform is at rest. */
  async function request(coverage: FakeCoverage): Promise<string[]> {
    const before = h.fake.enrichmentsOf(coverage.standardId).length;
    await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update', cause: 'test' });
    await h.fake.settle();
    return h.fake.enrichmentsOf(coverage.standardId).slice(before).map((e) => h.fake.state.works.get(e.workId)?.processedCalls.map((c) => c.message).join(' | ') ?? '');
  }

  async function historyRuns(coverage: FakeCoverage) {
    const store = createSqliteHistoryStore(join(dir, 'history.db'), { maxRunsPerCoverage: 100 });
    try {
      return await store.runs(coverage.standardId, { limit: 100 });
    } finally {
      await store.close();
    }
  }

  it('answers a repeat from the settled run, records it as the same snapshot, and assesses again when a rule, the content or the stored scores change', async () => {
    const { coverage, report } = h.reportCoverage(['T1059.001', 'T1105']);
    const first = await request(coverage);
    expect(first[first.length - 1]).toMatch(/nothing pushed/);
    const scores = JSON.stringify(coverage.coverage);

    // Same rules, same report, same stored result: the same answer, without an assessment.
    const assessedBefore = assessed;
    const repeat = await request(coverage);
    expect(assessed).toBe(assessedBefore);
    expect(repeat).toEqual([first[first.length - 1]]);
    let runs = await historyRuns(coverage);
    expect(runs[0]).toMatchObject({ outcome: 'unchanged', snapshotHash: runs[1].snapshotHash, detection: runs[1].detection, changes: { regressions: [], recoveries: [] } });
    expect(JSON.stringify(coverage.coverage)).toBe(scores);

    // A scheduled run with the validity lapsed: the coverage gets new dates, still without an assessment;
    // the re-trigger of that write is a repeat too.
    coverage.validTo = '2020-01-01T00:00:00.000Z';
    const scheduled = await request(coverage);
    expect(scheduled).toHaveLength(2);
    expect(scheduled[0]).toMatch(/^Pushed 1 object\(s\): .*validity renewed to .*unchanged since the last assessment/);
    expect(scheduled[1]).toBe(first[first.length - 1]);
    expect(assessed).toBe(assessedBefore);
    expect(Date.parse(coverage.validTo)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(coverage.coverage)).toBe(scores);
    runs = await historyRuns(coverage);
    expect(runs.slice(0, 2).map((r) => [r.outcome, r.snapshotHash])).toEqual([
      ['unchanged', runs[2].snapshotHash],
      ['pushed', runs[2].snapshotHash],
    ]);

    // Another writer changes our scores: assessed again and written back.
    coverage.coverage = [{ coverage_name: 'DETECTION', coverage_score: 1 }];
    const restored = await request(coverage);
    expect(assessed).toBeGreaterThan(assessedBefore);
    expect(restored[0]).toMatch(/^Pushed 1 object/);
    expect(restored[restored.length - 1]).toMatch(/nothing pushed/);
    expect(JSON.stringify(coverage.coverage)).toBe(scores);

    // A technique added to the report: assessed again (its has-covered written).
    const added = h.fake.state.addEntity('Attack-Pattern', 'Phishing', { xMitreId: 'T1566.001' });
    await h.fake.addToContainer(report.standardId, added);
    await h.fake.settle();
    runs = await historyRuns(coverage);
    expect(runs[0].techniques).toBe(3);

    // Rule files deleted (the watcher reloads them): a repeat is assessed with the rules in force.
    const before = (await historyRuns(coverage))[0];
    for (const f of ['sigma/proc_creation_win_certutil_download.yml', 'splunk/windows_bitsadmin_download_file.yml']) rmSync(join(dir, 'rules', f));
    let afterReload: string[] = [];
    for (let i = 0; i < 50 && !/^Pushed/.test(afterReload[0] ?? ''); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      afterReload = await request(coverage);
    }
    expect(afterReload[0]).toMatch(/^Pushed/);
    expect(afterReload[afterReload.length - 1]).toMatch(/nothing pushed/);
    runs = await historyRuns(coverage);
    const reassessed = runs.filter((r) => r.id > before.id && r.snapshotHash !== before.snapshotHash);
    expect(reassessed.length).toBeGreaterThan(0);
    expect(JSON.stringify(coverage.coverage)).not.toBe(JSON.stringify(JSON.parse(scores)));
  });
});
