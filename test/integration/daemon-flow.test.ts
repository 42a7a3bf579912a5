import { Writable } from 'node:stream';
import { createLogger } from '../../src/app/logger';
import { createHarness, fakeAssessor, type Harness } from '../support/fake-opencti/harness';
import { describeWithBroker } from '../support/env';

/** The main path against the real broker and the fake platform: register → consume → assess → push → processed. */

const coverageOf = (objects: Array<Record<string, unknown>>) => objects.find((o) => o.type === 'security-coverage');
const hasCovered = (objects: Array<Record<string, unknown>>) => objects.filter((o) => o.type === 'relationship' && o.relationship_type === 'has-covered');

describeWithBroker('daemon: enrichment flow', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('registers as an internal-enrichment connector with stix_bundle resolution and pings', async () => {
    const daemon = await h.start({ config: { connector: { auto: true, auto_update: true } } });
    const reg = h.fake.callsOf('RegisterConnector')[0];
    expect(reg.variables.input).toMatchObject({
      id: h.connectorId,
      type: 'INTERNAL_ENRICHMENT',
      scope: ['security-coverage'],
      auto: true,
      auto_update: true,
      enrichment_resolution: 'stix_bundle',
      playbook_compatible: false,
    });
    expect(daemon.registration.config.listen).toBe(`listen_${h.connectorId}`);
    await daemon.pingNow();
    expect(h.fake.state.connectors.get(h.connectorId)?.pings).toBe(1);
  });

  it('pushes the scores of a coverage with deterministic ids and completes the work', async () => {
    const { coverage, patterns, report } = h.reportCoverage(['T1059', 'T1003', 'T1566']);
    await h.start();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the work to be processed');

    const pushed = h.fake.state.pushes.filter((p) => p.workId === workId);
    expect(pushed.every((p) => p.objects.length === 1 && !p.dropped)).toBe(true);
    const objects = pushed.flatMap((p) => p.objects);
    const cov = coverageOf(objects);
    expect(cov).toMatchObject({ id: coverage.standardId, covered_ref: report.standardId, name: coverage.name });
    expect(cov?.coverage).toEqual(expect.arrayContaining([{ name: 'DETECTION', score: 60 }, { name: 'PREVENTION', score: 40 }]));
    const rels = hasCovered(objects);
    expect(rels.map((r) => r.target_ref).sort()).toEqual(patterns.map((p) => p.standardId).sort());
    expect(rels.every((r) => r.source_ref === coverage.standardId && r.start_time === undefined)).toBe(true);

    // The work: received, expectations added once for every object, all imported, closed without error.
    expect(work.received).toBe(true);
    expect(h.fake.callsOf('WorkAddExpectations')).toHaveLength(1);
    expect(work.expected).toBe(objects.length);
    expect(work.processed).toBe(objects.length);
    expect(work.status).toBe('complete');
    expect(work.errors).toEqual([]);
    expect(work.processedCalls).toEqual([{ message: expect.stringContaining('Pushed'), inError: false }]);
    expect(h.fake.state.coverages.get(coverage.standardId)?.coverage).toEqual(
      expect.arrayContaining([{ coverage_name: 'DETECTION', coverage_score: 60 }]),
    );
    expect(await h.queueDepth(`listen_${h.connectorId}`)).toBe(0);

    // Same request again, scores changed: same object ids (deterministic), relationships updated in place.
    const assessor = fakeAssessor({ detection: 80, prevention: 40 });
    await h.daemon?.close();
    await h.start({ assessor });
    const second = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => h.fake.state.works.get(second)?.status === 'complete', 15000, 'the second work');
    const ids2 = h.fake.state.pushes.filter((p) => p.workId === second).flatMap((p) => p.objects.map((o) => o.id)).sort();
    expect(ids2).toEqual(objects.map((o) => o.id).sort());
    expect(h.fake.state.relationships.filter((r) => r.type === 'has-covered')).toHaveLength(3);
  });

  it('fetches attack patterns page by page through GraphQL when stix_objects is null', async () => {
    const { coverage, patterns } = h.reportCoverage(['T1059', 'T1003', 'T1566', 'T1021', 'T1047']);
    const assessor = fakeAssessor();
    await h.start({ assessor });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage, { withObjects: false });
    await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 15000, 'the work');
    // 5 patterns, pages of 2 → 3 pages.
    expect(h.fake.callsOf('ContainerAttackPatterns').map((c) => c.variables.after ?? null)).toHaveLength(3);
    expect(assessor.calls[0].techniques.map((t) => t.techniqueId).sort()).toEqual(['T1003', 'T1021', 'T1047', 'T1059', 'T1566']);
    const targets = hasCovered(h.fake.state.pushes.flatMap((p) => p.objects)).map((r) => r.target_ref);
    expect(targets.sort()).toEqual(patterns.map((p) => p.standardId).sort());
  });

  it('pushes nothing and says so when the scores and relationships are unchanged (loop guard)', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start();
    const first = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => h.fake.state.works.get(first)?.status === 'complete', 15000, 'the first work');
    const pushesAfterFirst = h.fake.state.pushes.length;

    // The platform re-triggers (our own write-back, pitfall P1) with the stored scores.
    const second = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update' });
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(second);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the second work');
    expect(h.fake.state.pushes.length).toBe(pushesAfterFirst);
    expect(work.processedCalls).toEqual([{ message: expect.stringMatching(/unchanged.*nothing pushed/i), inError: false }]);
    expect(work.status).toBe('complete');
  });

  it('refreshes lapsed validity dates on a scheduled (manual) run even when the scores are unchanged', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start();
    const first = await h.fake.publishEnrichment(h.connectorId, coverage);
    await h.fake.until(() => h.fake.state.works.get(first)?.status === 'complete', 15000, 'the first work');
    const pushesAfterFirst = h.fake.state.pushes.length;
    const stored = h.fake.state.coverages.get(coverage.standardId)!;
    expect(stored.validTo).toBeDefined();

    // An auto re-trigger with fresh dates stays a no-op (loop guard) …
    const auto = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update' });
    await h.fake.until(() => (h.fake.state.works.get(auto)?.processedCalls.length ?? 0) > 0, 15000, 'the auto work');
    expect(h.fake.state.pushes.length).toBe(pushesAfterFirst);

    // … but once valid_to has passed, the scheduler's run (mode manual) pushes new dates.
    stored.validTo = '2000-01-01T00:00:00.000Z';
    const scheduled = await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update' });
    await h.fake.until(() => h.fake.state.works.get(scheduled)?.status === 'complete', 15000, 'the scheduled work');
    expect(h.fake.state.pushes.length).toBeGreaterThan(pushesAfterFirst);
    expect(Date.parse(h.fake.state.coverages.get(coverage.standardId)!.validTo!)).toBeGreaterThan(Date.now());
  });

  it('skips a coverage in manual-input mode and closes the work saying why', async () => {
    const { coverage } = h.reportCoverage(['T1059'], { autoEnrichmentDisable: true });
    const assessor = fakeAssessor();
    await h.start({ assessor });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the work');
    expect(work.processedCalls[0]).toEqual({ message: expect.stringContaining('auto_enrichment_disable'), inError: false });
    expect(assessor.calls).toHaveLength(0);
    expect(h.fake.state.pushes).toHaveLength(0);
  });

  it('skips an entity type outside the scope without dead-lettering it', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    await h.start();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage, {
      mutate: (m) => {
        (m.event as Record<string, unknown>).entity_type = 'Report';
      },
    });
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w && w.processedCalls.length > 0 ? w : undefined;
    }, 15000, 'the work');
    expect(work.processedCalls[0]).toEqual({ message: expect.stringContaining('outside the connector scope'), inError: false });
    expect(await h.queueDepth(h.dlq)).toBe(0);
  });

  it('tags every log line of a job with its work_id and coverage_id, and never logs the token', async () => {
    const lines: Array<Record<string, unknown>> = [];
    // The log line itself is the signal (fake.until re-checks on platform changes only: the next one was the ping, 5 s later).
    let finished: () => void = () => undefined;
    const jobDone = new Promise<void>((resolve) => (finished = resolve));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        if (lines.some((l) => l.msg === 'enrichment done')) finished();
        done();
      },
    });
    const { coverage } = h.reportCoverage(['T1059']);
    await h.start({ daemon: { log: createLogger('debug', sink) } });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    await jobDone;
    const jobLines = lines.filter((l) => ['assessing coverage', 'enrichment done'].includes(String(l.msg)));
    expect(jobLines).toHaveLength(2);
    // One closing line per run says what was written.
    expect(jobLines[1]).toMatchObject({ outcome: 'pushed', objects: expect.any(Number), reasons: expect.any(Array) });
    for (const l of jobLines) expect(l).toMatchObject({ work_id: workId, coverage_id: coverage.standardId });
    expect(JSON.stringify(lines)).not.toContain(h.fake.token);
  });

  it('logs an unreadable priorities file as a skipped evidence file at start', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const missing = '/nonexistent/priorities.yml';
    await h.start({ assessor: null, config: { coverage: { priorities_file: missing, allow_empty: true } }, daemon: { log: createLogger('info', sink) } });
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'evidence file skipped', path: missing, reason: expect.stringContaining('priorities file') }));
  });

  it('publishes one-object bundles to the push exchange in amqp push mode, and the work completes', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await h.start({ config: { worker: { push_mode: 'amqp' } } });
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w?.status === 'complete' ? w : undefined;
    }, 15000, 'the enrichment work to complete');
    // The coverage, two has-covered and the summary note, one object per message.
    const pushes = h.fake.state.pushes.filter((p) => p.workId === workId);
    expect(pushes).toHaveLength(4);
    expect(pushes.every((p) => p.via === 'amqp' && p.objects.length === 1 && !p.dropped)).toBe(true);
    expect(work).toMatchObject({ expected: 4, processed: 4 });
    expect(h.fake.callsOf('StixBundlePush')).toHaveLength(0);
  });
});
