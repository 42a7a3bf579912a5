import { Writable } from 'node:stream';
import { v4 as uuidv4 } from 'uuid';
import { createOpenCtiClient } from '../../src/adapters/opencti';
import { SEVEN_X_DOCUMENTS } from '../../src/adapters/opencti/documents';
import { createVersionedWorkAdd, defaultInstanceUri, resultExternalUri } from '../../src/adapters/opencti/platform-version';
import { parseConfig } from '../../src/app/config';
import { createLogger } from '../../src/app/logger';
import { startDaemon, type Daemon } from '../../src/app/main';
import { describeWithBroker } from '../support/env';
import { baseConfig, createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { fakeResults, fakeRetriggers, NO_RESULT_ERROR, type FakePlatformMode } from '../support/fake-opencti/version-modes';
import type { FakeCoverage, FakeWork } from '../support/fake-opencti/state';

/**
 * The key daemon scenario against the fake platform in 6.9 mode and in 7.x mode (real broker):
 * version probe, result shape, re-runs, a second source on the same coverage, the version-specific
 * work API and the 6.9 re-trigger loop guard (docs/compatibility.md).
 */

type Obj = Record<string, unknown>;

const processed = (h: Harness, workId: string, calls = 1): Promise<FakeWork> =>
  h.fake.until(() => {
    const w = h.fake.state.works.get(workId);
    return w && w.processedCalls.length >= calls ? w : undefined;
  }, 15000, `work ${workId} processed`);

const pushedIn = (h: Harness, workId: string): Obj[] => h.fake.state.pushes.filter((p) => p.workId === workId).flatMap((p) => p.objects);
const hasCoveredFrom = (h: Harness, source: string) => h.fake.state.relationships.filter((r) => r.type === 'has-covered' && r.from === source);
const scoresOf = (list: Array<{ coverage_name: string; coverage_score: number }> | undefined) =>
  Object.fromEntries((list ?? []).map((s) => [s.coverage_name, s.coverage_score]));

/** A second connector instance (its own id and instance URI) on the same fake platform. */
async function startSecondInstance(h: Harness, scores: { detection: number; prevention: number }): Promise<{ daemon: Daemon; connectorId: string }> {
  const connectorId = uuidv4();
  const daemon = await startDaemon({
    config: parseConfig(baseConfig(h.fake, connectorId)),
    log: createLogger('silent'),
    assessor: fakeAssessor(scores),
    pageSize: 2,
  });
  return { daemon, connectorId };
}

describe.each<[FakePlatformMode, string]>([
  ['6.9', '6.9.17'],
  ['7.x', '7.260615'],
])('platform versions: OpenCTI %s', (mode, version) => {
  describeWithBroker(`daemon against the fake in ${mode} mode`, () => {
    let h: Harness;
    let coverage: FakeCoverage;
    let patternIds: string[];
    const lines: Obj[] = [];

    beforeEach(async () => {
      h = await createHarness({ version: { mode } });
      const made = h.reportCoverage(['T1059', 'T1003', 'T1566']);
      coverage = made.coverage;
      patternIds = made.patterns.map((p) => p.standardId).sort();
      lines.length = 0;
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Obj);
          done();
        },
      });
      await h.start({ daemon: { log: createLogger('info', sink) } });
    });
    afterEach(async () => {
      await h.close();
    });

    it(`probes about.version at start, logs it and picks the ${mode} capabilities`, () => {
      expect(h.fake.callsOf('PlatformVersion')).toHaveLength(1);
      expect(h.fake.callsOf('PlatformCapabilities')).toHaveLength(1);
      expect(h.daemon?.platform).toMatchObject({ version, line: mode, capabilities: { resultEntity: mode === '7.x', retriggersOnWrite: mode === '6.9' } });
      const logged = lines.find((l) => l.msg === 'platform version detected');
      expect(logged).toMatchObject({ platform_version: version, platform_line: mode });
    });

    it('pushes the result in the shape the version expects and completes the work without error', async () => {
      const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
      const work = await processed(h, workId);
      expect(work.status).toBe('complete');
      expect(work.errors).toEqual([]);
      const objects = pushedIn(h, workId);
      const cov = objects.find((o) => o.type === 'security-coverage') as Obj;
      const rels = objects.filter((o) => o.relationship_type === 'has-covered');
      expect(rels.map((r) => r.target_ref).sort()).toEqual(patternIds);

      if (mode === '6.9') {
        // Unchanged 6.9 behaviour: scores on the coverage, has-covered from it, no external_uri (the fake assessor has no run link).
        expect(cov.external_uri).toBeUndefined();
        expect(rels.every((r) => r.external_uri === undefined)).toBe(true);
        expect(scoresOf(h.fake.state.coverages.get(coverage.standardId)?.coverage)).toEqual({ DETECTION: 60, PREVENTION: 40 });
        expect(hasCoveredFrom(h, coverage.standardId).map((r) => r.to).sort()).toEqual(patternIds);
        expect(fakeResults(h.fake.state)).toEqual([]);
      } else {
        // 7.x: one stable external_uri on the coverage and on every has-covered → our Result, has-covered rewritten to it.
        const uri = resultExternalUri(defaultInstanceUri(h.connectorId), coverage.standardId);
        expect(cov.external_uri).toBe(uri);
        expect(rels.map((r) => r.external_uri)).toEqual(rels.map(() => uri));
        const results = fakeResults(h.fake.state, coverage.standardId);
        expect(results).toHaveLength(1);
        expect(results[0]).toMatchObject({ externalUri: uri, name: `${uri} Result of ${coverage.name}` });
        expect(scoresOf(results[0].coverage)).toEqual({ DETECTION: 60, PREVENTION: 40 });
        expect(h.fake.state.coverages.get(coverage.standardId)?.coverage).toBeUndefined();
        expect(hasCoveredFrom(h, coverage.standardId)).toEqual([]);
        expect(hasCoveredFrom(h, results[0].standardId).map((r) => r.to).sort()).toEqual(patternIds);
      }
    });

    it('a second run of the same coverage neither duplicates relationships nor creates another result', async () => {
      const first = await h.fake.publishEnrichment(h.connectorId, coverage, { messageId: 'a' });
      await processed(h, first);
      const relCount = h.fake.state.relationships.length;
      const second = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update', messageId: 'b' });
      const work = await processed(h, second);
      expect(work.errors).toEqual([]);
      expect(h.fake.state.relationships).toHaveLength(relCount);
      if (mode === '6.9') {
        // Loop guard (P1): same scores and relationships → nothing pushed.
        expect(work.messages.join(' ')).toContain('Coverage unchanged');
        expect(pushedIn(h, second)).toEqual([]);
      } else {
        // No coverage-level guard on 7.x (stored scores are on our Result): the push upserts the same Result.
        expect(pushedIn(h, second).length).toBeGreaterThan(0);
        expect(fakeResults(h.fake.state, coverage.standardId)).toHaveLength(1);
      }
    });

    it(mode === '7.x' ? 'a second connector instance gets its own Result and does not overwrite ours' : 'a second connector instance overwrites the scores (6.x keeps one score set per coverage)', async () => {
      const other = await startSecondInstance(h, { detection: 10, prevention: 5 });
      try {
        const ours = await h.fake.publishEnrichment(h.connectorId, coverage);
        await processed(h, ours);
        const theirs = await h.fake.publishEnrichment(other.connectorId, coverage);
        const theirWork = await processed(h, theirs);
        expect(theirWork.errors).toEqual([]);
        if (mode === '6.9') {
          expect(scoresOf(h.fake.state.coverages.get(coverage.standardId)?.coverage)).toEqual({ DETECTION: 10, PREVENTION: 5 });
          return;
        }
        const results = fakeResults(h.fake.state, coverage.standardId);
        const ourUri = resultExternalUri(defaultInstanceUri(h.connectorId), coverage.standardId);
        const theirUri = resultExternalUri(defaultInstanceUri(other.connectorId), coverage.standardId);
        expect(results.map((r) => r.externalUri).sort()).toEqual([ourUri, theirUri].sort());
        const ourResult = results.find((r) => r.externalUri === ourUri);
        const theirResult = results.find((r) => r.externalUri === theirUri);
        expect(scoresOf(ourResult?.coverage)).toEqual({ DETECTION: 60, PREVENTION: 40 });
        expect(scoresOf(theirResult?.coverage)).toEqual({ DETECTION: 10, PREVENTION: 5 });
        for (const r of [ourResult, theirResult]) {
          const rels = hasCoveredFrom(h, r?.standardId as string);
          expect(rels.map((x) => x.to).sort()).toEqual(patternIds);
        }
        expect(hasCoveredFrom(h, ourResult?.standardId as string).every((x) => x.coverage.some((s) => s.coverage_score === 60))).toBe(true);

        // Our re-run after theirs still lands on our Result only.
        const again = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update' });
        expect((await processed(h, again)).errors).toEqual([]);
        expect(scoresOf(fakeResults(h.fake.state, coverage.standardId).find((r) => r.externalUri === theirUri)?.coverage)).toEqual({ DETECTION: 10, PREVENTION: 5 });
      } finally {
        await other.daemon.close();
      }
    });

    it(`creates works in the ${mode} work API shape (6.9.17 rejects isMultiPartWork)`, async () => {
      const client = createOpenCtiClient({ url: h.fake.url, token: h.fake.token, timeoutMs: 2000 });
      try {
        const workAdd = createVersionedWorkAdd({ gql: client.gql, profile: h.daemon?.platform as NonNullable<Daemon['platform']> });
        const id = await workAdd.add(h.connectorId, 'Late results', { multipart: true });
        expect(h.fake.state.works.get(id)?.status).toBe('progress');
        const sent = h.fake.calls.filter((c) => c.operationName === (mode === '7.x' ? 'WorkAddMultipart' : 'OperatorWorkAdd'));
        expect(sent.at(-1)?.variables).toMatchObject(mode === '7.x' ? { isMultiPartWork: true } : { friendlyName: 'Late results' });
        const direct = client.gql.request(SEVEN_X_DOCUMENTS.WorkAddMultipart, { connectorId: h.connectorId, friendlyName: 'x', isMultiPartWork: true });
        if (mode === '6.9') await expect(direct).rejects.toMatchObject({ code: 'PLATFORM_REJECTED', message: expect.stringContaining('isMultiPartWork') });
        else await expect(direct).resolves.toBeDefined();
      } finally {
        client.close();
      }
    });
  });
});

describeWithBroker('platform versions: rules of the fake', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('6.9 re-triggers an update enrichment after our write; the loop guard answers it without pushing', async () => {
    h = await createHarness({ version: { mode: '6.9', retriggerOnWrite: true } });
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    await processed(h, workId);
    const harness = h;
    const retrigger = await h.fake.until(() => fakeRetriggers(harness.fake.state).find((r) => r.workId), 15000, 'the re-trigger');
    const work = await processed(h, retrigger.workId as string);
    expect(work.messages.join(' ')).toContain('Coverage unchanged');
    expect(pushedIn(h, retrigger.workId as string)).toEqual([]);
    expect(fakeRetriggers(h.fake.state)).toHaveLength(1);
  });

  it('7.x answers "Cannot find SecurityCoverageResult" for a has-covered without external_uri once a coverage has two Results', async () => {
    h = await createHarness({ version: { mode: '7.x' } });
    const { coverage, patterns, report } = h.reportCoverage(['T1059']);
    await h.start();
    const client = createOpenCtiClient({ url: h.fake.url, token: h.fake.token, timeoutMs: 2000 });
    const bundle = (objects: Obj[]) => ({ type: 'bundle' as const, id: `bundle--${uuidv4()}`, spec_version: '2.1', objects: objects as never });
    const cov = (uri: string): Obj => ({ type: 'security-coverage', spec_version: '2.1', id: coverage.standardId, name: coverage.name, covered_ref: report.standardId, external_uri: uri, coverage: [{ name: 'DETECTION', score: 50 }] });
    const rel = (extra: Obj): Obj => ({ type: 'relationship', spec_version: '2.1', id: `relationship--${uuidv4()}`, relationship_type: 'has-covered', source_ref: coverage.standardId, target_ref: patterns[0].standardId, covered: true, ...extra });
    try {
      await client.coverage.pushBundle(h.connectorId, bundle([cov('https://openaev.example.org/a')]), null);
      // One Result: a has-covered without external_uri goes to the only one.
      await client.coverage.pushBundle(h.connectorId, bundle([rel({})]), null);
      await client.coverage.pushBundle(h.connectorId, bundle([cov('https://siem.example.org/b')]), null);
      await client.coverage.pushBundle(h.connectorId, bundle([rel({})]), null);
      await client.coverage.pushBundle(h.connectorId, bundle([rel({ external_uri: 'https://siem.example.org/b' })]), null);
    } finally {
      client.close();
    }
    // stixBundlePush without a work id: the platform makes one work per one-object bundle, in push order.
    expect(h.fake.state.pushes).toHaveLength(5);
    const works = h.fake.state.pushes.map((p) => h?.fake.state.works.get(p.workId ?? '') as FakeWork);
    expect(works.map((w) => w.errors)).toEqual([[], [], [], [NO_RESULT_ERROR], []]);
    const results = fakeResults(h.fake.state, coverage.standardId);
    expect(results.map((r) => r.externalUri)).toEqual(['https://openaev.example.org/a', 'https://siem.example.org/b']);
    expect(results.map((r) => hasCoveredFrom(h as Harness, r.standardId).length)).toEqual([1, 1]);
  });
});
