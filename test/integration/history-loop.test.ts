import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBroker, PROJECT_DIR } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import type { FakeCoverage } from '../support/fake-opencti/state';

/**
 * Coverage over time against the stand-in platform: rules are removed, then a data source stops being
 * collected; each next run is a regression with that cause (label and note on the coverage), every
 * re-trigger it causes writes nothing, and restoring both recovers (label and note removed). History
 * lives in a SQLite file that survives each daemon restart between the steps.
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

  it('marks two regressions with their causes (rules removed, data source dropped), ends each re-trigger chain, and clears the mark on recovery', async () => {
    await start();
    const { coverage } = h.reportCoverage(['T1059.001', 'T1105', 'T1566.001']);
    const first = await run(coverage);
    expect(first[first.length - 1]).toMatch(/nothing pushed/);
    expect(label(coverage)).toEqual([]);

    // 1. The PowerShell rules are taken out of the rule set.
    const powershell = ['elastic/execution_powershell_suspicious_script.toml', 'sigma/proc_creation_win_powershell_download_cradle.yml', 'sigma/proc_creation_win_powershell_encoded_command.yml'];
    const aside = mkdtempSync(join(tmpdir(), 'history-loop-aside-'));
    for (const f of powershell) renameSync(join(dir, 'rules', f), join(aside, f.replace('/', '_')));
    await start();
    const afterRules = await run(coverage);
    expect(label(coverage)).toEqual(['coverage-regression']);
    let notes = regressionNotes(coverage);
    expect(notes).toHaveLength(1);
    expect(notes[0].content).toMatch(/T1059\.001/);
    expect(notes[0].content).toMatch(/removed from the rule set/i);
    for (const note of afterRules.slice(1)) expect(note).toMatch(/nothing pushed/);

    // 2. Process creation logs stop reaching the SIEM: a second regression, on the other techniques.
    const file = join(dir, 'data-sources.yml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/(id: windows\/process_creation\n(?:.*\n)*?\s+collected:) true/, '$1 false'));
    await start();
    const afterSource = await run(coverage);
    notes = regressionNotes(coverage);
    expect(label(coverage)).toEqual(['coverage-regression']);
    expect(notes).toHaveLength(1);
    expect(notes[0].content).toMatch(/no longer collected/i);
    expect(notes[0].content).toMatch(/T1566\.001|T1105/);
    for (const note of afterSource.slice(1)) expect(note).toMatch(/nothing pushed/);

    // 3. Both restored: recovery, and the mark goes away.
    writeFileSync(file, original);
    for (const f of powershell) renameSync(join(aside, f.replace('/', '_')), join(dir, 'rules', f));
    await start();
    const recovered = await run(coverage);
    expect(label(coverage)).toEqual([]);
    expect(regressionNotes(coverage)).toHaveLength(0);
    for (const note of recovered.slice(1)) expect(note).toMatch(/nothing pushed/);
    const stale = [...h.fake.state.works.values()].filter((w) => w.connectorId === h.connectorId && w.status !== 'complete');
    expect(stale).toEqual([]);
    process.stdout.write(`[history] runs per change: rules removed ${afterRules.length}, data source dropped ${afterSource.length}, restored ${recovered.length}\n`);
  });
});
