import { createCoverageApi } from '../../src/adapters/opencti/coverage-api';
import { createConnectorApi, isConnectorGone } from '../../src/adapters/opencti/connector-api';
import { createGraphQLClient, type GraphQLClient } from '../../src/adapters/opencti/graphql-client';
import { createWorkApi } from '../../src/adapters/opencti/work-api';
import { COVERAGE_STATE } from '../../src/adapters/opencti/documents';
import { FakeOpenCti } from '../support/fake-opencti/server';

/** The GraphQL adapter against the fake platform (no broker needed for these operations). */

describe('OpenCTI GraphQL adapter', () => {
  let fake: FakeOpenCti;
  let gql: GraphQLClient;
  beforeEach(async () => {
    fake = await new FakeOpenCti({ amqpUrl: 'amqp://guest:guest@127.0.0.1:5672' }).start();
    gql = createGraphQLClient({ url: fake.url, token: fake.token, timeoutMs: 5000 });
  });
  afterEach(async () => {
    gql.close();
    await fake.close();
  });

  describe('error mapping', () => {
    const read = (): Promise<unknown> => gql.request(COVERAGE_STATE, { id: 'security-coverage--x' });

    it.each([
      [{ kind: 'status' as const, status: 500 }, 'PLATFORM_UNAVAILABLE', /HTTP 500/],
      [{ kind: 'status' as const, status: 503 }, 'PLATFORM_UNAVAILABLE', /HTTP 503/],
      [{ kind: 'down' as const }, 'PLATFORM_UNAVAILABLE', /unreachable/],
      [{ kind: 'malformed' as const }, 'PLATFORM_UNAVAILABLE', /HTML page, not GraphQL JSON: check OPENCTI_URL/],
      [{ kind: 'status' as const, status: 401 }, 'PLATFORM_AUTH', /HTTP 401.*OPENCTI_TOKEN/],
      [{ kind: 'status' as const, status: 403 }, 'PLATFORM_FORBIDDEN', /HTTP 403/],
      [{ kind: 'graphql-error' as const, message: 'Invalid bundle' }, 'PLATFORM_REJECTED', /Invalid bundle/],
    ])('maps %o to %s', async (rule, code, message) => {
      fake.fail({ ...rule, times: 1 });
      await expect(read()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    });

    it('maps a call slower than the timeout to PLATFORM_UNAVAILABLE', async () => {
      const impatient = createGraphQLClient({ url: fake.url, token: fake.token, timeoutMs: 200 });
      fake.fail({ kind: 'slow', delayMs: 1000, times: 1 });
      await expect(impatient.request(COVERAGE_STATE, { id: 'x' })).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: expect.stringContaining('no complete answer within 200 ms') });
      impatient.close();
    });

    it('maps the platform refusing the token (AUTH_REQUIRED) to PLATFORM_AUTH', async () => {
      const wrong = createGraphQLClient({ url: fake.url, token: 'nope', timeoutMs: 500 });
      await expect(wrong.request(COVERAGE_STATE, { id: 'x' })).rejects.toMatchObject({ code: 'PLATFORM_AUTH' });
      wrong.close();
    });

    it('sends the bearer token, the operation name and extra headers', async () => {
      await read();
      expect(fake.calls.at(-1)).toMatchObject({ operationName: 'CoverageState', variables: { id: 'security-coverage--x' } });
    });
  });

  it('reports an unreadable OPENCTI_CA_FILE as a configuration error naming the variable and the file', async () => {
    const client = createGraphQLClient({ url: 'https://127.0.0.1:1', token: 't', timeoutMs: 300, caFile: '/nonexistent/ca.pem' });
    await expect(client.request(COVERAGE_STATE, { id: 'x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^OPENCTI_CA_FILE .*\/nonexistent\/ca\.pem/) });
  });

  it('reads a coverage with its stored scores and covered entity', async () => {
    const report = fake.state.addEntity('Report', 'r');
    const c = fake.state.addCoverage(report.standardId, { coverage: [{ coverage_name: 'DETECTION', coverage_score: 70 }], autoEnrichmentDisable: true });
    const api = createCoverageApi({ gql });
    expect(await api.getCoverage(c.standardId)).toEqual({
      id: c.internalId,
      standardId: c.standardId,
      name: c.name,
      autoEnrichmentDisable: true,
      coverage: [{ name: 'DETECTION', score: 70 }],
      periodicity: 'P1D',
      duration: 'P30D',
      covered: { id: report.internalId, standardId: report.standardId, entityType: 'Report' },
      notes: [],
      hasCovered: [],
    });
    expect(await api.getCoverage('security-coverage--unknown')).toBeNull();
  });

  it('reads a coverage with its has-covered in one call, paging only past the first page', async () => {
    // This stand-in caps pages at 2 relationships.
    const c = fake.state.addCoverage('report--y');
    const targets = ['T1059', 'T1003', 'T1566'].map((t) => fake.state.addEntity('Attack-Pattern', t, { xMitreId: t }));
    const relate = (t: (typeof targets)[number]) => fake.state.addRelationship('has-covered', c.standardId, t.standardId, [{ coverage_name: 'DETECTION', coverage_score: 50 }]);
    const calls = (): string[] => fake.calls.map((k) => k.operationName);
    const api = createCoverageApi({ gql });
    targets.slice(0, 2).forEach(relate);
    let before = calls().length;
    expect((await api.getCoverage(c.standardId))?.hasCovered.map((r) => r.targetId)).toEqual(targets.slice(0, 2).map((t) => t.standardId));
    expect(calls().slice(before)).toEqual(['CoverageState']);
    relate(targets[2]);
    before = calls().length;
    expect((await api.getCoverage(c.standardId))?.hasCovered.map((r) => r.targetId)).toEqual(targets.map((t) => t.standardId));
    expect(calls().slice(before)).toEqual(['CoverageState', 'CoverageRelationships']);
  });

  it('pages through every attack pattern of a container and of an intrusion set', async () => {
    const patterns = ['T1059', 'T1003', 'T1566', 'T1021', 'T1047'].map((t) => fake.state.addEntity('Attack-Pattern', t, { xMitreId: t }));
    const other = fake.state.addEntity('Report', 'not a pattern');
    const report = fake.state.addEntity('Report', 'r', { objectIds: [...patterns.map((p) => p.standardId), other.standardId] });
    const api = createCoverageApi({ gql, pageSize: 2 });
    const fromReport = await api.listAttackPatterns({ id: report.standardId, entityType: 'Report' });
    expect(fromReport.map((p) => p.x_mitre_id)).toEqual(['T1059', 'T1003', 'T1566', 'T1021', 'T1047']);
    expect(fromReport[0]).toMatchObject({ type: 'attack-pattern', id: patterns[0].standardId, external_references: [{ source_name: 'mitre-attack', external_id: 'T1059' }] });
    expect(fake.callsOf('ContainerAttackPatterns')).toHaveLength(3);

    const set = fake.state.addEntity('Intrusion-Set', 'APT-X');
    for (const p of patterns.slice(0, 3)) fake.state.addRelationship('uses', set.standardId, p.standardId);
    fake.state.addRelationship('targets', set.standardId, other.standardId);
    const fromSet = await api.listAttackPatterns({ id: set.standardId, entityType: 'Intrusion-Set' });
    expect(fromSet.map((p) => p.x_mitre_id)).toEqual(['T1059', 'T1003', 'T1566']);
  });

  it('lists the stored has-covered relationships of a coverage with their scores', async () => {
    const p = fake.state.addEntity('Attack-Pattern', 'T1059', { xMitreId: 'T1059' });
    const c = fake.state.addCoverage('report--x');
    const rel = fake.state.addRelationship('has-covered', c.standardId, p.standardId, [{ coverage_name: 'DETECTION', coverage_score: 50 }]);
    rel.stixIds.push('relationship--6a1f4b0e-0000-4000-8000-000000000001');
    rel.description = '**Detection 50**';
    fake.state.addRelationship('uses', c.standardId, p.standardId);
    expect(await createCoverageApi({ gql }).listHasCovered(c.standardId)).toEqual([
      {
        id: rel.internalId,
        standardId: rel.standardId,
        stixIds: ['relationship--6a1f4b0e-0000-4000-8000-000000000001'],
        targetId: p.standardId,
        scores: [{ name: 'DETECTION', score: 50 }],
        description: '**Detection 50**',
      },
    ]);
  });

  it('pushes a bundle as a JSON string with the work id', async () => {
    fake.state.connectors.set('c1', { id: 'c1', name: 'n', scope: [], auto: true, autoUpdate: true, enrichmentResolution: null, playbookCompatible: false, state: null, stateReset: false, registrations: 1, pings: 0 });
    const report = fake.state.addEntity('Report', 'r');
    const c = fake.state.addCoverage(report.standardId);
    const work = fake.state.createWork('c1');
    await createWorkApi({ gql }).addExpectations(work.id, 1);
    const bundle = { type: 'bundle' as const, id: 'bundle--1', objects: [{ type: 'security-coverage', id: c.standardId, name: c.name, covered_ref: report.standardId, coverage: [{ name: 'DETECTION', score: 10 }] }] };
    await createCoverageApi({ gql }).pushBundle('c1', bundle, work.id);
    expect(JSON.parse(String(fake.callsOf('StixBundlePush')[0].variables.bundle))).toEqual(bundle);
    // The platform imports asynchronously; the work completes once toProcessed came and the object was imported.
    await createWorkApi({ gql }).toProcessed(work.id, 'done', false);
    await fake.until(() => fake.state.works.get(work.id)?.status === 'complete', 5000, 'the import');
    expect(fake.state.works.get(work.id)).toMatchObject({ expected: 1, processed: 1, status: 'complete' });
    await expect(createCoverageApi({ gql }).pushBundle('unknown', bundle, null)).rejects.toMatchObject({ code: 'PLATFORM_REJECTED' });
  });

  it('recognises a ping for a deleted connector', async () => {
    const err = await createConnectorApi({ gql }).ping('6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11', null).catch((e: unknown) => e);
    expect(isConnectorGone(err)).toBe(true);
    expect(isConnectorGone(new Error('HTTP 500'))).toBe(false);
  });
});
