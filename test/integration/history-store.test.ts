import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresHistoryStore, createSqliteHistoryStore } from '../../src/adapters/history';
import type { AppendContext, HistoryStore } from '../../src/domain/history/history-ports';
import type { RunSnapshot } from '../../src/domain/history/history-types';
import { compareRuns } from '../../src/domain/history/regression';
import { snapshotOf } from '../../src/domain/history/snapshot';
import type { RegressionMarker } from '../../src/adapters/opencti/regression-api';
import { createHistoryRecorder } from '../../src/app/history/history-recorder';
import { createLogger } from '../../src/app/logger';
import type { CoverageRunRecord } from '../../src/app/run-record';
import { coverageRequest } from '../support/coverage-request';
import { assessWith, edits, evidenceWith, LSASS_RULE, TECHNIQUES } from '../support/history-fixtures';
import { describeWithPostgres, dropSchema, POSTGRES_URL, uniqueSchema } from '../support/postgres';

/**
 * The history store contract, run against the embedded SQLite file and the shared PostgreSQL store:
 * append with the previous run handed to `decide`, snapshot dedupe, retention by count and age,
 * marks, lookup by internal id, restart, and (PostgreSQL) two replicas appending to one coverage.
 */

const COVERAGE = 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30';
const INTERNAL = '3f7d1a52-9a55-4c1b-9a83-1b9f2f0c1e11';
const day = (n: number): Date => new Date(Date.UTC(2026, 0, 1) + n * 86400000);

function appendRun(store: HistoryStore, snapshot: RunSnapshot, runAt: Date, seen: AppendContext[] = [], coverageId = COVERAGE) {
  return store.append({ coverageId, coverageInternalId: INTERNAL, coverageName: 'APT-X campaign report', runAt, outcome: 'pushed', snapshot }, (context) => {
    seen.push(context);
    return compareRuns({ ...(context.previous ? { previous: context.previous.snapshot } : {}), current: snapshot, open: context.state.open, threshold: 10, runAt: runAt.toISOString() });
  });
}

function storeContract(name: string, open: (maxRuns: number) => HistoryStore, reopen: () => HistoryStore) {
  describe(`${name} history store`, () => {
    let base: RunSnapshot;
    let worse: RunSnapshot;
    beforeAll(async () => {
      base = snapshotOf(await assessWith(evidenceWith()));
      worse = snapshotOf(await assessWith(evidenceWith(edits.disableRule(LSASS_RULE))));
    });

    it('hands the previous run to decide, stores the changes and the open regressions', async () => {
      const store = open(100);
      try {
        const seen: AppendContext[] = [];
        const first = await appendRun(store, base, day(0), seen);
        expect(seen[0].previous).toBeUndefined();
        expect(first.run).toMatchObject({ coverageId: COVERAGE, coverageInternalId: INTERNAL, runAt: day(0).toISOString(), outcome: 'pushed', backend: 'embedded', techniques: 2, tested: 2 });
        expect(first.run.changes.first).toBe(true);

        const second = await appendRun(store, worse, day(1), seen);
        expect(seen[1].previous?.run.id).toBe(first.run.id);
        expect(seen[1].previous?.snapshot).toEqual(JSON.parse(JSON.stringify(base)));
        expect(second.run.changes.regressions.map((r) => `${r.techniqueId ?? 'coverage'} ${r.score} ${r.causes[0].kind}`)).toContain('T1003.001 DETECTION rule-disabled');
        expect((await store.state(COVERAGE))?.open).toEqual(second.state.open);
        expect(await store.regressedCount()).toBe(1);

        const runs = await store.runs(COVERAGE);
        expect(runs.map((r) => r.id)).toEqual([second.run.id, first.run.id]);
        expect(runs[0]).toEqual(second.run);
        // Either id finds the coverage: operators paste the internal id from the platform's URL.
        expect((await store.runs(INTERNAL)).map((r) => r.id)).toEqual([second.run.id, first.run.id]);
        expect(await store.snapshot(COVERAGE, first.run.snapshotHash)).toEqual(JSON.parse(JSON.stringify(base)));
        const lsass = (s: RunSnapshot) => s.techniques.find((t) => t.id === 'T1003.001')!;
        const scores = await store.techniqueScores(INTERNAL, [first.run.snapshotHash, second.run.snapshotHash, first.run.snapshotHash]);
        expect([...scores.keys()].sort()).toEqual([first.run.snapshotHash, second.run.snapshotHash].sort());
        expect(scores.get(first.run.snapshotHash)?.['T1003.001']).toEqual([lsass(base).detection, lsass(base).prevention]);
        expect(scores.get(second.run.snapshotHash)?.['T1003.001']).toEqual([lsass(worse).detection, lsass(worse).prevention]);
      } finally {
        await store.close();
      }
    });

    it('stores a snapshot once for runs that changed nothing', async () => {
      const store = open(100);
      try {
        const a = await appendRun(store, base, day(2), [], 'security-coverage--dedupe');
        const b = await appendRun(store, base, day(3), [], 'security-coverage--dedupe');
        expect(b.run.snapshotHash).toBe(a.run.snapshotHash);
        expect(b.run.changes).toEqual({ first: false, scoreChanges: [], added: [], removed: [], quietChanges: [], regressions: [], recoveries: [] });
        // An equal snapshot built anew (recognised without hashing), a different one, then the first content again.
        const clone = JSON.parse(JSON.stringify(base)) as RunSnapshot;
        expect((await appendRun(store, clone, day(4), [], 'security-coverage--dedupe')).run.snapshotHash).toBe(a.run.snapshotHash);
        const changed = await appendRun(store, worse, day(5), [], 'security-coverage--dedupe');
        expect(changed.run.snapshotHash).not.toBe(a.run.snapshotHash);
        expect((await appendRun(store, clone, day(6), [], 'security-coverage--dedupe')).run.snapshotHash).toBe(a.run.snapshotHash);
      } finally {
        await store.close();
      }
    });

    it('appends a repeat of the latest run by its hash, and refuses one when the history moved on or a regression is open', async () => {
      const store = open(100);
      const id = 'security-coverage--settled';
      try {
        const a = await appendRun(store, base, day(0), [], id);
        const repeat = await store.appendSettled?.({ coverageId: id, coverageName: 'APT-X campaign report', runAt: day(1), outcome: 'unchanged', snapshotHash: a.run.snapshotHash });
        expect(repeat?.run).toMatchObject({ outcome: 'unchanged', snapshotHash: a.run.snapshotHash, techniques: a.run.techniques, tested: a.run.tested, backend: 'embedded', changes: { first: false, regressions: [] } });
        expect(repeat?.run.detection).toBe(a.run.detection);
        expect((await store.runs(id)).map((r) => r.id)).toEqual([repeat?.run.id, a.run.id]);
        // Another run stored other content since: not a repeat of it.
        const worseRun = await appendRun(store, worse, day(2), [], id);
        expect(worseRun.state.open.length).toBeGreaterThan(0);
        expect(await store.appendSettled?.({ coverageId: id, runAt: day(3), outcome: 'unchanged', snapshotHash: a.run.snapshotHash })).toBeUndefined();
        // The latest content, but a regression is open (its recovery is judged on the full run).
        expect(await store.appendSettled?.({ coverageId: id, runAt: day(3), outcome: 'unchanged', snapshotHash: worseRun.run.snapshotHash })).toBeUndefined();
        expect(await store.appendSettled?.({ coverageId: 'security-coverage--never-run', runAt: day(3), outcome: 'unchanged', snapshotHash: a.run.snapshotHash })).toBeUndefined();
        expect((await store.runs(id)).length).toBe(3);
      } finally {
        await store.close();
      }
    });

    it('keeps at most the configured number of runs per coverage and forgets snapshots no run uses', async () => {
      const store = open(3);
      const id = 'security-coverage--retention';
      try {
        const oldest = await appendRun(store, worse, day(0), [], id);
        let pruned = 0;
        for (let i = 1; i <= 4; i++) pruned += (await appendRun(store, base, day(i), [], id)).pruned;
        expect(pruned).toBe(2);
        const runs = await store.runs(id);
        expect(runs.map((r) => r.runAt)).toEqual([day(4), day(3), day(2)].map((d) => d.toISOString()));
        expect(await store.snapshot(id, oldest.run.snapshotHash)).toBeUndefined();
        expect(await store.snapshot(id, runs[0].snapshotHash)).toBeDefined();
      } finally {
        await store.close();
      }
    });

    it('prunes by age but keeps the state of a coverage the platform still carries a mark for', async () => {
      const store = open(100);
      try {
        await appendRun(store, base, day(0), [], 'security-coverage--old-marked');
        await store.setMarkedNote('security-coverage--old-marked', 'note text');
        await appendRun(store, base, day(0), [], 'security-coverage--old-plain');
        await appendRun(store, base, day(40), [], 'security-coverage--recent');
        const removed = await store.pruneBefore(day(30));
        expect(removed).toBeGreaterThanOrEqual(2);
        expect(await store.runs('security-coverage--old-plain')).toEqual([]);
        expect(await store.state('security-coverage--old-plain')).toBeUndefined();
        expect(await store.state('security-coverage--old-marked')).toEqual({ open: [], markedNote: 'note text' });
        expect((await store.runs('security-coverage--recent')).length).toBe(1);
      } finally {
        await store.close();
      }
    });

    it('survives a restart: a new store instance reads what the old one wrote', async () => {
      const store = open(100);
      await appendRun(store, base, day(10), [], 'security-coverage--restart');
      await store.setMarkedNote('security-coverage--restart', 'marked');
      await store.close();
      const again = reopen();
      try {
        const seen: AppendContext[] = [];
        await appendRun(again, worse, day(11), seen, 'security-coverage--restart');
        expect(seen[0].previous?.run.runAt).toBe(day(10).toISOString());
        expect(seen[0].state.markedNote).toBe('marked');
        expect((await again.coverages()).find((c) => c.coverageId === 'security-coverage--restart')).toMatchObject({ runs: 2, coverageInternalId: INTERNAL, lastRunAt: day(11).toISOString() });
      } finally {
        await again.close();
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'history-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let sqliteFile = 0;
let currentFile = '';
storeContract(
  'SQLite',
  (maxRuns) => {
    currentFile = join(dir, `history-${++sqliteFile}.db`);
    return createSqliteHistoryStore(currentFile, { maxRunsPerCoverage: maxRuns });
  },
  () => createSqliteHistoryStore(currentFile, { maxRunsPerCoverage: 100 }),
);

describe('SQLite history store errors', () => {
  it('names the setting when the file cannot be opened', () => {
    // A regular file where the folder should be (not /proc: Node's recursive mkdir loops there).
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const path = join(blocker, 'history.db');
    expect(() => createSqliteHistoryStore(path, { maxRunsPerCoverage: 10 })).toThrow(`history store ${path} (HISTORY_SQLITE_PATH) cannot be opened`);
  });
});

describeWithPostgres('PostgreSQL history store', () => {
  const schemas: string[] = [];
  let current = '';
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });
  const openPg = (maxRuns: number, schema = current): HistoryStore => createPostgresHistoryStore(POSTGRES_URL, { maxRunsPerCoverage: maxRuns, schema });

  storeContract(
    'PostgreSQL',
    (maxRuns) => {
      current = uniqueSchema();
      schemas.push(current);
      return openPg(maxRuns);
    },
    () => openPg(100),
  );

  it('serialises appends of one coverage from two replicas: each run sees the one before it', async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const a = openPg(1000, schema);
    const b = openPg(1000, schema);
    const base = snapshotOf(await assessWith(evidenceWith()));
    try {
      const seen: AppendContext[] = [];
      // Same run time: "previous" is then the last one committed, so only serialised appends see distinct ones.
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => appendRun(i % 2 ? a : b, base, day(0), seen, 'security-coverage--replicas')));
      const ids = results.map((r) => r.run.id);
      const previous = seen.map((s) => s.previous?.run.id ?? null);
      // Exactly one append saw no earlier run; every other saw a different one: no two replicas
      // compared against the same previous run.
      expect(previous.filter((p) => p === null)).toHaveLength(1);
      expect(new Set(previous).size).toBe(12);
      expect(previous.filter((p): p is number => p !== null).every((p) => ids.includes(p))).toBe(true);
      expect((await b.runs('security-coverage--replicas')).length).toBe(12);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a second replica (and a restarted daemon) continues the history and the mark of the first', async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    const notes: Array<string | null> = [];
    const marker: RegressionMarker = {
      sync: async (_coverage, note) => {
        notes.push(note?.content ?? null);
        return { found: true, actions: [] };
      },
    };
    const recorderOn = (store: HistoryStore) => createHistoryRecorder({ store, log: createLogger('silent'), threshold: 10, retentionDays: 400, marker, label: 'coverage-regression' });
    const run = async (i: number, evidence: ReturnType<typeof evidenceWith>): Promise<CoverageRunRecord> => ({
      coverageId: 'security-coverage--two-replicas',
      runAt: day(i),
      outcome: 'pushed',
      request: coverageRequest(TECHNIQUES),
      result: await assessWith(evidence, TECHNIQUES, day(i)),
    });
    const a = openPg(1000, schema);
    try {
      await recorderOn(a).record(await run(0, evidenceWith()));
      await recorderOn(a).record(await run(1, evidenceWith(edits.disableRule(LSASS_RULE))));
    } finally {
      await a.close();
    }
    expect(notes).toHaveLength(1);
    const b = openPg(1000, schema);
    try {
      // The re-triggered run lands on the other replica: same regressions, same note, nothing written.
      await recorderOn(b).record(await run(2, evidenceWith(edits.disableRule(LSASS_RULE))));
      expect(notes).toHaveLength(1);
      await recorderOn(b).record(await run(3, evidenceWith()));
      expect(notes).toEqual([expect.stringContaining('rule "LSASS Memory Access" disabled'), null]);
      expect((await b.runs('security-coverage--two-replicas')).map((r) => r.changes.recoveries.length > 0)).toEqual([true, false, false, false]);
    } finally {
      await b.close();
    }
  });

  it('a database that is down fails the call with the URL (no password) and the setting', async () => {
    const store = createPostgresHistoryStore('postgres://someone:s3cret-pass@127.0.0.1:1/none', { maxRunsPerCoverage: 10, connectTimeoutMs: 1000 });
    try {
      const err = (await store.runs(COVERAGE).then(() => undefined, (e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^history database postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/none \(HISTORY_URL\) is not usable: /);
      expect(err.message).not.toContain('s3cret-pass');
    } finally {
      await store.close();
    }
  });
});
