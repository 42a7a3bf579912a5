import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createSqliteHistoryStore } from '../../../src/adapters/history';
import { createHistoryRecorder } from '../../../src/app/history/history-recorder';
import { createLogger } from '../../../src/app/logger';
import { registerHistoryCommand } from '../../../src/cli/history-command';
import { coverageRequest } from '../../support/coverage-request';
import { assessWith, edits, evidenceWith, LSASS_RULE, TECHNIQUES } from '../../support/history-fixtures';

/** `coverage-connector history` over a SQLite file written by the daemon's recorder. */

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const INTERNAL = '3f7d1a52-9a55-4c1b-9a83-1b9f2f0c1e11';
const NOW = new Date('2026-03-04T12:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'history-cli-'));
const file = join(dir, 'history.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const store = createSqliteHistoryStore(file, { maxRunsPerCoverage: 100 });
  const recorder = createHistoryRecorder({ store, log: createLogger('silent'), threshold: 10, retentionDays: 400, label: 'coverage-regression', clock: () => NOW });
  const runs = [evidenceWith(), evidenceWith(edits.disableRule(LSASS_RULE)), evidenceWith(edits.disableRule(LSASS_RULE))];
  for (const [i, evidence] of runs.entries()) {
    const runAt = new Date(Date.UTC(2026, 2, 1 + i, 9));
    await recorder.record({ coverageId: COVERAGE, coverageInternalId: INTERNAL, coverageName: 'APT-X campaign report', runAt, outcome: i === 2 ? 'unchanged' : 'pushed', request: coverageRequest(TECHNIQUES), result: await assessWith(evidence, TECHNIQUES, runAt) });
  }
  await store.close();
});

async function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  let out = '';
  let err = '';
  const program = new Command().exitOverride();
  registerHistoryCommand(program, { env: { HISTORY_SQLITE_PATH: file }, now: () => NOW, write: (t) => void (out += t), stderr: (t) => void (err += t) });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'coverage-connector', 'history', ...args]);
    return { out, err, code: process.exitCode };
  } finally {
    process.exitCode = before;
  }
}

describe('history command', () => {
  it('prints the runs newest first with relative dates, scores, what changed and the open regressions', async () => {
    const { out, code } = await run([COVERAGE]);
    expect(code).toBeUndefined();
    const lines = out.split('\n');
    expect(lines[0]).toBe(`Coverage: APT-X campaign report (${COVERAGE}, ${INTERNAL})`);
    expect(out).toContain('Regressions open (');
    expect(out).toMatch(/T1003\.001 DETECTION \d+ → \d+ since 2026-03-02 09:00Z \(2 days ago\): rule "LSASS Memory Access" disabled/);
    const header = lines.findIndex((l) => l.startsWith('WHEN'));
    expect(lines[header]).toMatch(/^WHEN\s+RUN AT \(UTC\)\s+OUTCOME\s+DETECTION\s+PREVENTION\s+TESTED\s+WHAT CHANGED$/);
    expect(lines[header + 1]).toMatch(/^1 day ago\s+2026-03-03 09:00Z\s+unchanged\s+\d+\s+\d+\s+2\/2\s+no change$/);
    expect(lines[header + 2]).toMatch(/^2 days ago\s+2026-03-02 09:00Z\s+pushed .*REGRESSION T1003\.001 DETECTION \d+ → \d+ \(rule "LSASS Memory Access" disabled\)/);
    expect(lines[header + 3]).toMatch(/^3 days ago\s+2026-03-01 09:00Z\s+pushed .*first run$/);
  });

  it('accepts the internal id, shows one technique per run, and --json', async () => {
    const { out } = await run([INTERNAL, '--technique', 't1003.001', '--json']);
    const report = JSON.parse(out) as { coverageId: string; runs: Array<{ technique: { id: string; detection: number } }>; open: unknown[] };
    expect(report.coverageId).toBe(COVERAGE);
    expect(report.runs).toHaveLength(3);
    const [latest, drop, first] = report.runs.map((r) => r.technique);
    expect(latest.id).toBe('T1003.001');
    expect(first.detection - drop.detection).toBeGreaterThanOrEqual(10);
    expect(latest.detection).toBe(drop.detection);
    expect(report.open.length).toBeGreaterThan(0);
  });

  it('writes the trend as a self-contained SVG', async () => {
    const svg = join(dir, 'trend.svg');
    const { out } = await run([COVERAGE, '--svg', svg, '--limit', '2']);
    expect(out).toContain(`wrote ${svg}`);
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(text).toContain('<desc>2 run(s) from 2026-03-02 to 2026-03-03');
  });

  it('lists the coverages with history when no id is given', async () => {
    const { out } = await run([]);
    expect(out).toMatch(new RegExp(`^COVERAGE\\s+NAME\\s+RUNS\\s+LAST RUN\\s+DETECTION\\s+PREVENTION\\s+REGRESSIONS\\n${COVERAGE}\\s+APT-X campaign report\\s+3\\s+1 day ago\\s+\\d+\\s+\\d+\\s+[1-9]`));
  });

  it('says so, with exit code 1, for a coverage without runs', async () => {
    const { err, code } = await run(['security-coverage--unknown']);
    expect(code).toBe(1);
    expect(err).toBe(`no run recorded for security-coverage--unknown in sqlite:${file}\n`);
  });

  it('rejects a bad --limit', async () => {
    await expect(run([COVERAGE, '--limit', '0'])).rejects.toThrow('--limit must be a positive integer (got 0)');
  });
});
