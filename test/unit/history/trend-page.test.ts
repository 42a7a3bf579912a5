import { createSqliteHistoryStore } from '../../../src/adapters/history';
import type { CoverageApi } from '../../../src/adapters/opencti';
import { createHistoryRecorder } from '../../../src/app/history/history-recorder';
import { trendProvider } from '../../../src/app/history/history-report';
import { createLogger } from '../../../src/app/logger';
import { createCoverageReportService } from '../../../src/app/report/coverage-report';
import { createEmbeddedAssessor } from '../../../src/domain/scoring/embedded-engine';
import { coverageRequest } from '../../support/coverage-request';
import { assessWith, edits, evidenceWith, LSASS_RULE, TECHNIQUES } from '../../support/history-fixtures';

/** The coverage report page shows the score trend from the history store, and still serves without it. */

const UUID = '08513b4e-a87f-5f2e-aeda-afc159d47d30';
const COVERAGE = `security-coverage--${UUID}`;

const coverageApi = {
  getCoverage: async () => ({
    id: '3f7d1a52-9a55-4c1b-9a83-1b9f2f0c1e11',
    standardId: COVERAGE,
    name: 'APT-X campaign report',
    autoEnrichmentDisable: false,
    covered: { id: 'r1', standardId: 'report--f2b63e80-b523-4747-a069-35c002c690db', entityType: 'Report' },
  }),
  listAttackPatterns: async () =>
    TECHNIQUES.map((t, i) => ({
      type: 'attack-pattern',
      spec_version: '2.1',
      id: `attack-pattern--0000000${i}-0000-4000-8000-000000000000`,
      name: t,
      external_references: [{ source_name: 'mitre-attack', external_id: t }],
    })),
} as unknown as CoverageApi;

function service(trend?: (id: string) => Promise<string | undefined>) {
  return createCoverageReportService({
    coverage: coverageApi,
    assessor: createEmbeddedAssessor(evidenceWith()),
    clock: () => new Date('2026-03-05T10:00:00Z'),
    settings: { rollupSubtechniques: true, maxTechniques: 100, defaultPeriodicity: 'P1D', timezone: 'UTC', externalUri: { platformPublicUrl: 'https://opencti.example.org' } },
    ...(trend ? { trend } : {}),
  });
}

describe('score trend on the coverage report page', () => {
  it('embeds the SVG trend of the recorded runs', async () => {
    const store = createSqliteHistoryStore(':memory:', { maxRunsPerCoverage: 100 });
    try {
      const recorder = createHistoryRecorder({ store, log: createLogger('silent'), threshold: 10, retentionDays: 400, label: 'coverage-regression' });
      for (const [i, evidence] of [evidenceWith(), evidenceWith(edits.disableRule(LSASS_RULE)), evidenceWith()].entries()) {
        const runAt = new Date(Date.UTC(2026, 2, 1 + i, 9));
        await recorder.record({ coverageId: COVERAGE, runAt, outcome: 'pushed', request: coverageRequest(TECHNIQUES), result: await assessWith(evidence, TECHNIQUES, runAt) });
      }
      const page = await service(trendProvider(store)).answer(UUID);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<div class="trend"><svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*role="img"/);
      expect(page.body).toContain('<desc>3 run(s) from 2026-03-01 to 2026-03-03;');
      expect(page.body).toContain('1 regression(s), 1 recovery(ies).</desc>');
      expect(await trendProvider(store)('security-coverage--without-runs')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('serves the page without a trend when the history is not available', async () => {
    const page = await service(async () => {
      throw new Error('history database down');
    }).answer(UUID);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('class="trend"');
    expect(page.body).toContain('<h1>APT-X campaign report</h1>');
  });
});
