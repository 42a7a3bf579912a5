import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { SCHEDULE_ASK_ENRICHMENT, SCHEDULE_COVERAGE, SCHEDULE_COVERAGES } from '../../../src/adapters/opencti/documents';
import { createAskEnrichmentTrigger, createPlatformCoverageSource, runReportOf } from '../../../src/app/scheduler/scheduler-platform';
import { EnrichmentMessageSchema } from '../../../schemas/message';
import { createSchedulePlatform, inProcessGraphQL } from '../../support/fake-opencti/schedule-ops';
import { describeWithShared, sharedPath } from '../../support/env';

const CONNECTOR = 'c0ffee00-0000-4000-8000-000000000002';

describeWithShared('scheduler platform adapter (documents executed against the OpenCTI schema)', () => {
  const schema = buildSchema(readFileSync(sharedPath('reference/opencti-schema.graphql'), 'utf8'));
  const now = new Date('2026-02-01T10:00:00Z');
  const platform = createSchedulePlatform({ connectorId: CONNECTOR, now: () => now, pageSize: 2 });
  const gql = inProcessGraphQL(schema, platform.rootValue);

  beforeAll(() => {
    platform.add({ createdAt: new Date('2026-01-01T00:00:00Z'), lastResultAt: new Date('2026-01-31T08:00:00Z'), periodicity: 'PT6H', duration: 'P60D' });
    platform.add({ createdAt: new Date('2026-01-02T00:00:00Z'), manual: true, periodicity: null, duration: null });
    platform.add({ createdAt: new Date('2026-01-03T00:00:00Z') });
  });

  it('sends documents that are valid against the schema', () => {
    for (const doc of [SCHEDULE_COVERAGES, SCHEDULE_COVERAGE, SCHEDULE_ASK_ENRICHMENT]) {
      expect(validate(schema, parse(doc)).map((e) => e.message)).toEqual([]);
    }
  });

  it('lists every coverage page by page, mapping what the schedule needs', async () => {
    const source = createPlatformCoverageSource({ gql, connectorId: CONNECTOR, pageSize: 2 });
    const first = await source.listPage();
    expect(first.items).toHaveLength(2);
    expect(first.next).toBeDefined();
    const second = await source.listPage(first.next);
    expect(second.items).toHaveLength(1);
    expect(second.next).toBeUndefined();
    expect(source.total).toBe(3);
    expect(first.items[0]).toEqual({
      id: expect.any(String),
      standardId: expect.stringMatching(/^security-coverage--/),
      name: expect.any(String),
      createdAt: new Date('2026-01-01T00:00:00Z'),
      periodicity: 'PT6H',
      duration: 'P60D',
      lastResultAt: new Date('2026-01-31T08:00:00Z'),
      manual: false,
      lastTriggeredAt: undefined,
    });
    expect(first.items[1]).toMatchObject({ manual: true, periodicity: null, duration: null, lastResultAt: undefined });
  });

  it('asks the enrichment (a work on the platform) and then sees it as the latest started run', async () => {
    const source = createPlatformCoverageSource({ gql, connectorId: CONNECTOR });
    const trigger = createAskEnrichmentTrigger({ gql, connectorId: CONNECTOR });
    const [cov] = (await source.listPage()).items;
    const { workId } = await trigger.trigger(cov);
    expect(workId).toMatch(/^work_/);
    const fresh = await source.get(cov.id);
    expect(fresh?.lastTriggeredAt).toEqual(now);
    expect(await source.get('security-coverage--unknown')).toBeUndefined();
  });

  it('ignores works of other connectors when looking for a started run', async () => {
    const other = platform.add({ createdAt: new Date('2026-01-04T00:00:00Z') });
    platform.works.push({ id: 'work_other', connectorId: 'someone-else', coverageId: other.standardId, timestamp: now, status: 'wait' });
    const fresh = await createPlatformCoverageSource({ gql, connectorId: CONNECTOR }).get(other.standardId);
    expect(fresh?.lastTriggeredAt).toBeUndefined();
  });
});

describe('runReportOf', () => {
  it('builds the run report from the enrichment message the worker processed', () => {
    const message = EnrichmentMessageSchema.parse({
      internal: { work_id: 'work_1', applicant_id: null, draft_id: null, trigger: 'update', mode: 'manual' },
      event: {
        event_type: 'INTERNAL_ENRICHMENT',
        entity_id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
        entity_type: 'Security-Coverage',
        stix_entity: JSON.stringify({
          id: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
          type: 'security-coverage',
          name: 'APT-X',
          periodicity: 'P1D',
          duration: 'P30D',
          extensions: {
            'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba': { id: '0f2f7c7e-3a1e-4b4a-9d7e-0d3f5a6b7c8d', created_at: '2026-02-10T09:12:00.000Z' },
          },
        }),
        stix_objects: null,
      },
    });
    const ranAt = new Date('2026-02-12T10:00:00Z');
    expect(runReportOf(message, ranAt)).toEqual({
      standardId: 'security-coverage--08513b4e-a87f-5f2e-aeda-afc159d47d30',
      id: '0f2f7c7e-3a1e-4b4a-9d7e-0d3f5a6b7c8d',
      name: 'APT-X',
      ranAt,
      periodicity: 'P1D',
      duration: 'P30D',
      createdAt: new Date('2026-02-10T09:12:00.000Z'),
    });
  });
});
