import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBroker, PROJECT_DIR } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';

/**
 * Coverage over time against the stand-in platform: a data source stops being collected, the next
 * run is a regression with that cause (label and note on the coverage), the label's re-trigger writes
 * nothing, and restoring it recovers (label and note removed). History lives in a SQLite file that
 * survives each daemon restart between the steps.
 */

const EXAMPLES = join(PROJECT_DIR, 'config', 'examples');

describeWithBroker('score history and regressions through OpenCTI', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await createHarness({ maxPageSize: 50 });
    dir = mkdtempSync(join(tmpdir(), 'history-loop-'));
    cpSync(join(EXAMPLES, 'rules'), join(dir, 'rules'), { recursive: true });
    cpSync(join(EXAMPLES, 'data-sources.yml'), join(dir, 'data-sources.yml'));
  });

  afterAll(async () => {
    expect(h.fake.rejected).toEqual([]);
    await h.close();
  });

  const start = async (): Promise<void> => {
    await h.daemon?.close();
    await h.start({
      assessor: null,
      config: {
        connector: { auto: true, auto_update: true },
        coverage: { rules_dirs: [join(dir, 'rules')], data_sources_file: join(dir, 'data-sources.yml'), watch: false },
        history: { enabled: true, sqlite_path: join(dir, 'history.db'), regression_threshold: 10 },
      },
    });
  };

  async function run(coverage: FakeCoverage): Promise<string[]> {
    const before = h.fake.enrichmentsOf(coverage.standardId).length;
    await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update', cause: 'test' });
    await h.fake.settle();
    return h.fake.enrichmentsOf(coverage.standardId).slice(before).map((e) => h.fake.state.works.get(e.workId)?.processedCalls.map((c) => c.message).join(' | ') ?? '');
  }

  const label = (c: FakeCoverage): string[] => (c.labels ?? []).map((id) => h.fake.state.labels.find((l) => l.id === id)?.value ?? id);
  const regressionNotes = (c: FakeCoverage) => h.fake.state.notes.filter((n) => n.objectRefs.includes(c.standardId) && (n.labels ?? []).length > 0);

  it('marks a regression with its cause, ends the re-trigger chain, and clears the mark on recovery', async () => {
    await start();
    const { coverage } = h.reportCoverage(['T1059.001', 'T1105', 'T1566.001']);
    const first = await run(coverage);
    expect(first[first.length - 1]).toMatch(/nothing pushed/);
    expect(label(coverage)).toEqual([]);

    // Process creation logs stop reaching the SIEM.
    const file = join(dir, 'data-sources.yml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/(id: windows\/process_creation\n(?:.*\n)*?\s+collected:) true/, '$1 false'));
    await start();
    const regressed = await run(coverage);
    expect(label(coverage)).toEqual(['coverage-regression']);
    const notes = regressionNotes(coverage);
    expect(notes).toHaveLength(1);
    expect(notes[0].content).toMatch(/windows\/process_creation|process creation/i);
    expect(notes[0].content).toMatch(/no longer collected/i);
    // The run that regressed, the echo of its write and the label's re-trigger: every later run writes nothing.
    expect(regressed.length).toBeLessThanOrEqual(3);
    for (const note of regressed.slice(1)) expect(note).toMatch(/nothing pushed/);

    // Restored: a recovery, and the mark goes away.
    writeFileSync(file, original);
    await start();
    const recovered = await run(coverage);
    expect(label(coverage)).toEqual([]);
    expect(regressionNotes(coverage)).toHaveLength(0);
    for (const note of recovered.slice(1)) expect(note).toMatch(/nothing pushed/);
    const stale = [...h.fake.state.works.values()].filter((w) => w.connectorId === h.connectorId && w.status !== 'complete');
    expect(stale).toEqual([]);
  });
});
