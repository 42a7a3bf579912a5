import { join } from 'node:path';
import { createGraphQLClient, type GraphQLClient } from '../../src/adapters/opencti/graphql-client';
import { createTechniquePrevalenceApi } from '../../src/adapters/opencti/technique-prevalence-api';
import { prevalenceFromUses } from '../../src/domain/gaps/prevalence';
import { createEmbeddedAssessor } from '../../src/domain/scoring/embedded-engine';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { FakeOpenCti } from '../support/fake-opencti/server';
import type { FakeEntity, FakeState } from '../support/fake-opencti/state';
import { describeWithBroker, PROJECT_DIR } from '../support/env';
import { evidence, NOW, request, rule } from '../unit/scoring/evidence-fixtures';

/**
 * Gap priorities from the platform's own intelligence, against the stand-in platform (which checks every
 * document against the real schema and alias rule): intrusion sets, campaigns and reports using each
 * technique, read in pages with a bound on calls, optionally only the adversaries targeting an identity;
 * then the daemon ranks a coverage's gaps by it and says so in the summary note.
 */

const RECENT = '2026-01-20T00:00:00.000Z';
const OLD = '2022-01-01T00:00:00.000Z';

/** 12 intrusion sets and a campaign using T1105 (recently) or T1082 (long ago); one set targets the sector. */
function seed(state: FakeState): { sector: FakeEntity; patterns: Record<string, FakeEntity> } {
  const patterns = Object.fromEntries(['T1105', 'T1082', 'T1059.001'].map((id) => [id, state.addEntity('Attack-Pattern', id, { xMitreId: id })]));
  const sector = state.addEntity('Identity', 'Energy');
  for (let i = 0; i < 12; i++) {
    const set = state.addEntity('Intrusion-Set', `APT-${i}`);
    Object.assign(state.addRelationship('uses', set.standardId, patterns.T1105.standardId), { created: RECENT });
    if (i < 8) Object.assign(state.addRelationship('uses', set.standardId, patterns.T1082.standardId), { created: OLD });
    if (i === 0) {
      state.addRelationship('targets', set.standardId, sector.standardId);
      state.addRelationship('uses', set.standardId, patterns['T1059.001'].standardId);
    }
  }
  const campaign = state.addEntity('Campaign', 'Operation X');
  Object.assign(state.addRelationship('uses', campaign.standardId, patterns.T1105.standardId), { created: RECENT });
  for (let i = 0; i < 3; i++) state.addEntity('Report', `Report ${i}`, { published: RECENT, objectIds: [patterns.T1082.standardId, patterns['T1059.001'].standardId] });
  return { sector, patterns };
}

describe('technique prevalence from the platform (stand-in OpenCTI)', () => {
  let fake: FakeOpenCti;
  let gql: GraphQLClient;
  let sector: FakeEntity;
  beforeEach(async () => {
    // Pages of 2: the reads page, and the page bound is exercised.
    fake = await new FakeOpenCti({ amqpUrl: 'amqp://guest:guest@127.0.0.1:5672', maxPageSize: 2 }).start();
    gql = createGraphQLClient({ url: fake.url, token: fake.token, timeoutMs: 5000 });
    ({ sector } = seed(fake.state));
  });
  afterEach(async () => {
    gql.close();
    await fake.close();
  });

  it('reads every use and report page by page, documents accepted by the platform', async () => {
    const read = await createTechniquePrevalenceApi(gql).read({ maxPages: 100 });
    expect(fake.rejected).toEqual([]);
    expect(read.truncated).toBe(false);
    // 12 + 8 + 1 + 1 uses in 11 pages of 2, 3 reports in 2 pages.
    expect(read.calls).toBe(13);
    expect(fake.callsOf('TechniqueUses')).toHaveLength(11);
    expect(fake.callsOf('ReportTechniques')).toHaveLength(2);
    const table = prevalenceFromUses(read.uses, { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 });
    expect(table.users.T1105).toEqual({ intrusionSets: 12, campaigns: 1, reports: 0, recent: 13 });
    expect(table.users.T1082).toEqual({ intrusionSets: 8, campaigns: 0, reports: 3, recent: 3 });
    expect(table.values.T1105).toBe(10);
    expect(table.values.T1082).toBeLessThan(table.values.T1105);
  });

  it('stops at the page bound and says the reading is partial', async () => {
    const read = await createTechniquePrevalenceApi(gql).read({ maxPages: 3 });
    expect(read.truncated).toBe(true);
    // 3 pages of uses (more remain), then the 3 reports in 2 pages.
    expect(read.calls).toBe(5);
    expect(read.uses).toHaveLength(3 * 2 + 3 * 2);
  });

  it('counts only the adversaries targeting the configured identity (no reports), or all when none does', async () => {
    const focused = await createTechniquePrevalenceApi(gql).read({ maxPages: 100, identity: sector.standardId });
    expect(new Set(focused.uses.map((u) => u.user)).size).toBe(1);
    expect(focused.uses.map((u) => u.techniqueId).sort()).toEqual(['T1059.001', 'T1082', 'T1105']);
    expect(fake.callsOf('TargetingAdversaries')[0].variables.toId).toEqual([sector.standardId]);
    const nobody = await createTechniquePrevalenceApi(gql).read({ maxPages: 100, identity: 'identity--00000000-0000-4000-8000-000000000000' });
    expect(nobody.focusUnmatched).toBe(true);
    expect(nobody.uses.length).toBeGreaterThan(20);
  });

  it('ranks gaps by it and names the source on each gap', async () => {
    const read = await createTechniquePrevalenceApi(gql).read({ maxPages: 100 });
    const table = prevalenceFromUses(read.uses, { origin: 'opencti', label: 'OpenCTI', now: NOW, windowDays: 365 });
    const result = await createEmbeddedAssessor(evidence({ rules: [rule({ id: 'x', techniques: ['T1003'] })] }), { prevalence: () => table }).assess(request(['T1082', 'T1105', 'T1614']), { now: NOW });
    expect(result.gaps.map((g) => [g.techniqueId, g.prevalenceSource])).toEqual([
      ['T1105', 'OpenCTI: used by 12 intrusion sets, 1 campaign (13 within the window)'],
      ['T1082', 'OpenCTI: used by 8 intrusion sets, 3 reports (3 within the window)'],
      ['T1614', 'OpenCTI: used by none of them'],
    ]);
  });
});

describeWithBroker('daemon: platform-aware scoring and priorities from the platform', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('scores a linux coverage without the Windows-only technique and ranks its gaps by the platform\'s intelligence', async () => {
    const { patterns } = seed(h.fake.state);
    const windowsOnly = h.fake.state.addEntity('Attack-Pattern', 'Registry Run Keys', { xMitreId: 'T1547.001', platforms: ['Windows'] });
    Object.assign(patterns.T1105, { platforms: ['Linux', 'macOS', 'Windows'] });
    const report = h.fake.state.addEntity('Report', 'Linux intrusion', { published: RECENT, objectIds: [patterns.T1105.standardId, patterns.T1082.standardId, windowsOnly.standardId] });
    const coverage = h.fake.state.addCoverage(report.standardId, { platformsAffinity: ['linux'] });
    await h.start({
      config: {
        coverage: { rules_dirs: [join(PROJECT_DIR, 'config', 'examples', 'rules')] },
        prevalence: { max_pages: 100 },
      },
      assessor: null,
    });
    // The intelligence is read in the background from the start; enrich until the note is ranked by it.
    let note: string | undefined;
    for (let attempt = 0; attempt < 10 && !/from OpenCTI: used by/.test(note ?? ''); attempt++) {
      const work = await h.fake.publishEnrichment(h.connectorId, coverage, { trigger: 'update' });
      await h.fake.until(() => (h.fake.state.works.get(work)?.processedCalls.length ?? 0) > 0, 20000, 'the work');
      note = h.fake.state.notes.find((n) => n.objectRefs.includes(coverage.standardId))?.content;
    }
    expect(note).toMatch(/T1105 .*prevalence 10 from OpenCTI: used by 12 intrusion sets, 1 campaign/);
    const rels = h.fake.state.relationships.filter((r) => r.type === 'has-covered' && r.from === coverage.standardId);
    const onWindowsOnly = rels.find((r) => r.to === windowsOnly.standardId);
    const onLinux = rels.find((r) => r.to === patterns.T1105.standardId);
    expect(onLinux?.coverage.length).toBeGreaterThan(0);
    // Not applicable to linux (ATT&CK lists Windows only): no score at all, never an empty list.
    expect(onWindowsOnly?.coverage ?? []).toEqual([]);
    expect(onWindowsOnly?.description).toMatch(/not applicable/i);
  });
});
