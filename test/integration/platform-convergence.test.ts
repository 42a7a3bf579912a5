import { createOpenCtiClient } from '../../src/adapters/opencti';
import { hasCoveredRelationshipId } from '../../src/domain/ids/stix-ids';
import amqp from 'amqplib';
import { AMQP_URL, describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { FAKE_PLATFORM_VERSIONS } from '../support/fake-opencti/platform-rules';
import { recordFigures } from '../faults/fault-results';
import type { FakeCoverage } from '../support/fake-opencti/state';

/**
 * The daemon against stand-ins that apply the real platform's rules (platform-rules.ts): every write
 * that changes a coverage re-triggers an enrichment, imports are asynchronous, other writers add their
 * own has-covered, master adds expectations on push. After any single change the chain of runs must
 * end with one run that writes nothing, every work must complete with processed = expected, and no
 * document may be refused by the schema or the alias rule.
 */

interface ChangeOutcome {
  runs: number;
  /** What each run's work said, in order. */
  notes: string[];
}

/** Runs per change and whether the last one wrote nothing, by platform (printed for the docs and the closing figures). */
const figures: Record<string, Array<{ change: string; runs: number; lastWroteNothing: boolean }>> = {};

/**
 * How long the platform must stay at rest to call a chain of runs ended. Pushed over HTTP, every step
 * (import queued, re-trigger being published, work open) is in the stand-in's state, so a short quiet
 * suffices; a bundle pushed through the broker is invisible while RabbitMQ delivers it: the default.
 */
const HTTP_QUIET_MS = 50;
const BROKER_QUIET_MS = 150;

/** Applies `change`, waits for the platform to be at rest, and reports the runs it caused. */
async function runsAfter(h: Harness, coverage: FakeCoverage, change: () => Promise<unknown>, quietMs = HTTP_QUIET_MS): Promise<ChangeOutcome> {
  const before = h.fake.enrichmentsOf(coverage.standardId).length;
  await change();
  await h.fake.settle(quietMs);
  const runs = h.fake.enrichmentsOf(coverage.standardId).slice(before);
  const notes = runs.map((r) => h.fake.state.works.get(r.workId)?.processedCalls.map((c) => c.message).join(' | ') ?? '');
  const causes = [...new Set(runs.map((r) => r.cause))].join(' + ');
  (figures[h.fake.rules.version] ??= []).push({ change: `${expect.getState().currentTestName ?? ''}: ${causes}`, runs: runs.length, lastWroteNothing: /nothing pushed/.test(notes[notes.length - 1] ?? '') });
  return { runs: runs.length, notes };
}

afterAll(() => {
  for (const [version, rows] of Object.entries(figures)) {
    recordFigures(`convergence_${version}`, { changes: rows.length, max_runs_per_change: Math.max(...rows.map((r) => r.runs)), last_run_wrote_nothing: rows.filter((r) => r.lastWroteNothing).length, rows: rows.map((r) => `${r.runs} ${r.lastWroteNothing ? 'ok' : 'WROTE'} ${r.change.slice(-60)}`) });
  }
});

/**
 * The chain a change started has ended within two runs: when a run wrote the coverage (which
 * re-triggers), the second wrote nothing; a run that wrote only relationships re-triggers nothing.
 * Then one more request (what a user's manual run would be) writes nothing either.
 */
async function expectConverged(h: Harness, coverage: FakeCoverage, outcome: ChangeOutcome, quietMs = HTTP_QUIET_MS): Promise<void> {
  expect(outcome.runs).toBeGreaterThanOrEqual(1);
  expect(outcome.runs).toBeLessThanOrEqual(2);
  if (outcome.runs === 2) expect(outcome.notes[1]).toMatch(/nothing pushed/);
  const probe = await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update', cause: 'probe' }), quietMs);
  expect(probe.notes).toEqual([expect.stringMatching(/nothing pushed/)]);
}

function expectEveryWorkComplete(h: Harness): void {
  const works = [...h.fake.state.works.values()].filter((w) => w.connectorId === h.connectorId);
  for (const w of works) {
    expect({ id: w.id, status: w.status, processed: w.processed, toProcessed: w.processedCalls.length }).toEqual({
      id: w.id,
      status: 'complete',
      processed: w.expected,
      toProcessed: 1,
    });
  }
}

const ownHasCovered = (h: Harness, coverage: FakeCoverage) =>
  h.fake.state.relationships.filter((r) => r.type === 'has-covered' && r.from === coverage.standardId && r.standardId === hasCoveredRelationshipId(coverage.standardId, r.to));

describeWithBroker.each(FAKE_PLATFORM_VERSIONS.map((v) => [v]))('converging on the real platform rules: OpenCTI %s', (version) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ version, maxPageSize: 50 });
    await h.start({ config: { connector: { auto: true, auto_update: true } } });
  });

  // One platform and one daemon per version: each test works on its own coverages and waits for rest.
  afterAll(async () => {
    // Every document the daemon sent passed the version's schema and the alias rule.
    expect(h.fake.rejected).toEqual([]);
    await h.close();
  });

  it('ends a creation after at most one more run that pushes nothing, with every work complete', async () => {
    const patterns = ['T1059', 'T1003', 'T1105'].map((t) => h.fake.state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t }));
    const report = h.fake.state.addEntity('Report', 'APT-X report', { objectIds: patterns.map((p) => p.standardId) });
    const c = await h.fake.createCoverage(report.standardId);
    await h.fake.settle();
    const all = h.fake.enrichmentsOf(c.standardId);
    expect(all.map((e) => e.trigger)).toEqual(['create', 'update']);
    expect(h.fake.state.works.get(all[1].workId)?.processedCalls[0].message).toMatch(/nothing pushed/);
    // The run that writes marks its work received first; the one that writes nothing just closes it.
    expect(all.map((e) => h.fake.state.works.get(e.workId)?.received)).toEqual([true, false]);
    expect(c.coverage).toEqual(
      expect.arrayContaining([
        { coverage_name: 'PREVENTION', coverage_score: 40 },
        { coverage_name: 'DETECTION', coverage_score: 60 },
      ]),
    );
    expect(ownHasCovered(h, c).map((r) => r.to).sort()).toEqual(patterns.map((p) => p.standardId).sort());
    // The reasons reach OpenCTI: an explanation on every has-covered, one summary note on the coverage.
    expect(ownHasCovered(h, c).every((r) => /\*\*Detection 60\*\*/.test(r.description ?? ''))).toBe(true);
    const notes = h.fake.state.notes.filter((n) => n.objectRefs.includes(c.standardId));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ abstract: 'Coverage assessment: DETECTION 60, PREVENTION 40', content: expect.stringContaining('3 tested, 0 not tested') });
    // external_uri: an absolute http(s) URL a person can open (the coverage page in OpenCTI by default).
    expect(c.externalUri).toBe(`${h.fake.url}/dashboard/analyses/security_coverages/${c.internalId}`);
    expectEveryWorkComplete(h);
  });

  it('removes its own has-covered of a technique taken out of the report, and converges', async () => {
    const { coverage, patterns, report } = h.reportCoverage(['T1059', 'T1003', 'T1105']);
    await expectConverged(h, coverage, await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage)));
    expect(ownHasCovered(h, coverage)).toHaveLength(3);

    const outcome = await runsAfter(h, coverage, () => h.fake.removeFromContainer(report.standardId, patterns[1]));
    await expectConverged(h, coverage, outcome);
    expect(outcome.notes[0]).toMatch(/removed 1 has-covered/);
    expect(ownHasCovered(h, coverage).map((r) => r.to).sort()).toEqual([patterns[0].standardId, patterns[2].standardId].sort());
    expectEveryWorkComplete(h);
  });

  it('writes the has-covered of a technique added to the report, and converges', async () => {
    const { coverage, report } = h.reportCoverage(['T1059']);
    await expectConverged(h, coverage, await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage)));
    const added = h.fake.state.addEntity('Attack-Pattern', 'Ingress Tool Transfer', { xMitreId: 'T1105' });
    const outcome = await runsAfter(h, coverage, () => h.fake.addToContainer(report.standardId, added));
    await expectConverged(h, coverage, outcome);
    expect(ownHasCovered(h, coverage).map((r) => r.to)).toContain(added.standardId);
    expectEveryWorkComplete(h);
  });

  it('never touches another writer has-covered, for a technique in the report or not', async () => {
    const { coverage, patterns } = h.reportCoverage(['T1059', 'T1003']);
    const elsewhere = h.fake.state.addEntity('Attack-Pattern', 'Phishing', { xMitreId: 'T1566' });
    const inReport = h.fake.addForeignHasCovered(coverage.standardId, patterns[1].standardId, [{ coverage_name: 'PREVENTION', coverage_score: 5 }]);
    const outside = h.fake.addForeignHasCovered(coverage.standardId, elsewhere.standardId, [{ coverage_name: 'DETECTION', coverage_score: 99 }], 'analyst');
    const snapshot = JSON.stringify([inReport, outside]);

    const outcome = await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage));
    await expectConverged(h, coverage, outcome);
    expect(outcome.notes[0]).toMatch(/1 technique\(s\) keep another writer's has-covered/);
    expect(JSON.stringify([inReport, outside])).toBe(snapshot);
    expect(h.fake.state.relationships).toEqual(expect.arrayContaining([inReport, outside]));
    expect(ownHasCovered(h, coverage).map((r) => r.to)).toEqual([patterns[0].standardId]);
    // A later foreign write changes nothing either.
    await expectConverged(h, coverage, await runsAfter(h, coverage, async () => {
      h.fake.addForeignHasCovered(coverage.standardId, patterns[0].standardId, [{ coverage_name: 'DETECTION', coverage_score: 1 }], 'analyst');
      await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update' });
    }));
    expectEveryWorkComplete(h);
  });

  it('refreshes a lapsed validity window on a scheduled run, then converges', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    await expectConverged(h, coverage, await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage)));
    const lapsed = '2020-01-01T00:00:00.000Z';
    coverage.validTo = lapsed;
    const outcome = await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update', cause: 'scheduler' }));
    expect(outcome.runs).toBe(2);
    expect(outcome.notes[0]).toMatch(/^Pushed 1 object/);
    expect(outcome.notes[1]).toMatch(/nothing pushed/);
    expect(Date.parse(coverage.validTo as string)).toBeGreaterThan(Date.now());
    expectEveryWorkComplete(h);
  });

  it('ends the re-trigger chain when an analyst edits the coverage (no write back)', async () => {
    const { coverage } = h.reportCoverage(['T1059']);
    await expectConverged(h, coverage, await runsAfter(h, coverage, () => h.fake.publishEnrichment(h.connectorId, coverage)));
    const outcome = await runsAfter(h, coverage, () => h.fake.editCoverage(coverage, { description: 'reviewed by the SOC', periodicity: 'P7D' }));
    expect(outcome.runs).toBe(1);
    expect(outcome.notes[0]).toMatch(/nothing pushed/);
    // The analyst's fields are not reverted by our writes.
    expect(coverage).toMatchObject({ description: 'reviewed by the SOC', periodicity: 'P7D' });
    expectEveryWorkComplete(h);
  });
});

describeWithBroker.each(FAKE_PLATFORM_VERSIONS.map((v) => [v]))('a run interrupted mid-push on OpenCTI %s', (version) => {
  it('is finished by the next process: results stored, no import dropped, every work complete, then nothing to write', async () => {
    const h = await createHarness({ version, maxPageSize: 50 });
    try {
      await h.start({ config: { connector: { auto: true, auto_update: true } } });
      const { coverage, patterns } = h.reportCoverage(['T1059', 'T1003', 'T1105']);
      // What a process that died mid-push left: two of our has-covered pushed into the enrichment work,
      // uncounted, and the message back in the queue, redelivered (the dead process had received it).
      await h.daemon?.close();
      const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
      const dead = await amqp.connect(AMQP_URL);
      const channel = await dead.createChannel();
      const delivered = new Promise<void>((resolve) => void channel.consume(h.fake.topo.listenQueue(h.connectorId), () => resolve(), { noAck: false }));
      await delivered;
      const client = createOpenCtiClient({ url: h.fake.url, token: h.fake.token, timeoutMs: 5000 });
      for (const p of patterns.slice(0, 2)) {
        const rel = { type: 'relationship', spec_version: '2.1', id: hasCoveredRelationshipId(coverage.standardId, p.standardId), relationship_type: 'has-covered', source_ref: coverage.standardId, target_ref: p.standardId, coverage: [{ name: 'DETECTION', score: 60 }] };
        await client.coverage.pushBundle(h.connectorId, { type: 'bundle', id: `bundle--${p.internalId}`, objects: [rel] }, workId);
      }
      client.close();
      await h.fake.until(() => h.fake.idle && h.fake.state.works.get(workId)?.processed === 2, 5000, 'the dead run imports');
      await dead.close();
      await h.start({ config: { connector: { auto: true, auto_update: true } } });
      await h.fake.settle();
      expect(coverage.coverage).toEqual(expect.arrayContaining([{ coverage_name: 'DETECTION', coverage_score: 60 }]));
      expect(ownHasCovered(h, coverage)).toHaveLength(3);
      expect(h.fake.state.pushes.filter((p) => p.dropped)).toEqual([]);
      expectEveryWorkComplete(h);
      await expectConverged(h, coverage, { runs: 1, notes: ['nothing pushed'] });
      expect(h.fake.rejected).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describeWithBroker.each(FAKE_PLATFORM_VERSIONS.map((v) => [v]))('pushing through the broker (WORKER_PUSH_MODE=amqp) on OpenCTI %s', (version) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ version, maxPageSize: 50 });
    await h.start({ config: { connector: { auto: true, auto_update: true }, worker: { push_mode: 'amqp' } } });
  });

  afterAll(async () => {
    expect(h.fake.rejected).toEqual([]);
    await h.close();
  });

  it('converges and completes every work: the platform never counts broker pushes, the connector does', async () => {
    const patterns = ['T1059', 'T1003'].map((t) => h.fake.state.addEntity('Attack-Pattern', `Technique ${t}`, { xMitreId: t }));
    const report = h.fake.state.addEntity('Report', 'APT-X report', { objectIds: patterns.map((p) => p.standardId) });
    const coverage = await h.fake.createCoverage(report.standardId);
    await h.fake.settle(BROKER_QUIET_MS);
    expect(h.fake.enrichmentsOf(coverage.standardId).map((e) => e.trigger)).toEqual(['create', 'update']);
    expect(h.fake.state.pushes.every((p) => p.via === 'amqp')).toBe(true);
    await expectConverged(h, coverage, await runsAfter(h, coverage, () => h.fake.removeFromContainer(report.standardId, patterns[0]), BROKER_QUIET_MS), BROKER_QUIET_MS);
    expectEveryWorkComplete(h);
  });
});

describeWithBroker.each([['6.9'], ['7.2608']] as const)('drafts and access on OpenCTI %s', (version) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ version, maxPageSize: 50 });
    await h.start({ config: { connector: { auto: true, auto_update: true } } });
  });

  afterAll(async () => {
    expect(h.fake.rejected).toEqual([]);
    await h.close();
  });

  it('writes a run started inside a draft into that draft, and leaves live data alone', async () => {
    const { coverage } = h.reportCoverage(['T1059', 'T1003']);
    const draftId = h.fake.state.openDraft();
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update', draftId });
    await h.fake.settle();
    const draft = h.fake.state.store(draftId);
    const inDraft = h.fake.state.coverage(coverage.standardId, draft) as FakeCoverage;
    expect(inDraft.coverage).toHaveLength(2);
    expect(draft.relationships.filter((r) => r.type === 'has-covered' && r.from === coverage.standardId)).toHaveLength(2);
    expect(coverage.coverage).toBeUndefined();
    expect(h.fake.state.relationships.filter((r) => r.type === 'has-covered' && r.from === coverage.standardId)).toHaveLength(0);
    expect(h.fake.state.pushes.filter((p) => p.workId === workId).every((p) => p.draftId === draftId && p.via === 'amqp')).toBe(true);
    expectEveryWorkComplete(h);
  });

  it('closes the work in error, saying so, when the connector user cannot read the coverage', async () => {
    const { report } = h.reportCoverage([]);
    const coverage = await h.fake.createCoverage(report.standardId, { hidden: true });
    await h.fake.settle();
    // 7.2608 checks the connector user's access before sending an automatic enrichment; 6.9 does not.
    const automatic = h.fake.enrichmentsOf(coverage.standardId);
    expect(automatic).toHaveLength(version === '6.9' ? 1 : 0);
    const workId = await h.fake.publishEnrichment(h.connectorId, coverage, { mode: 'manual', trigger: 'update' });
    const work = await h.fake.until(() => {
      const w = h.fake.state.works.get(workId);
      return w?.status === 'complete' ? w : undefined;
    }, 15000, 'the work to close');
    expect(work.processedCalls).toEqual([{ inError: true, message: expect.stringMatching(/Cannot read coverage .*connector's user does not see it.*grant the connector user access/) }]);
    expect(await h.queueDepth(h.dlq)).toBe(0);
  });
});
