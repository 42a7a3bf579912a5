import type { CoverageApi } from '../../adapters/opencti/coverage-api';
import type { Assessor, AssessmentResult } from '../../domain/assessment/assessment-types';
import type { CoverageRequest } from '../../domain/coverage/coverage-types';
import { resolveCoverageRequest } from '../../domain/coverage/technique-resolution';
import { coverageExternalUri, type ExternalUriSettings } from '../../domain/platform/external-uri';
import { escapeHtml, renderReportHtml, reportInputOf } from '../../domain/report/report-html';
import { validityWindow } from '../../domain/schedule/validity';
import { buildNavigatorLayer, type NavigatorLayer } from '../../domain/stix/navigator-layer';
import { buildResultBundle } from '../../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../../domain/stix/stix-types';
import { setBounded } from '../../domain/bounded-map';

/**
 * The coverage report page (`GET /coverages/<uuid>`) and its downloads. Stateless across replicas:
 * each request reads the coverage and its attack patterns from the platform and assesses them with
 * this replica's evidence (the same engine the enrichment runs), so any replica serves any coverage.
 * A short cache keeps the page and its three downloads from assessing four times.
 */

export interface CoverageReportSettings {
  rollupSubtechniques: boolean;
  maxTechniques: number;
  defaultPeriodicity: string;
  timezone: string;
  externalUri: ExternalUriSettings;
  /** How long one assessment serves the page and its downloads (default 60 s). */
  cacheMs?: number;
}

export interface CoverageReportDeps {
  coverage: CoverageApi;
  assessor: Assessor;
  clock: () => Date;
  settings: CoverageReportSettings;
  /** The coverage's score trend as inline SVG, from the score history (src/app/history/history-report.ts trendProvider). */
  trend?: (coverageId: string) => Promise<string | undefined>;
}

export type ReportAnswer = { status: 200 | 404; contentType: string; body: string; filename?: string };

export interface CoverageReportService {
  /** `path` below `/coverages/`: `<uuid>`, `<uuid>/layer-detection.json`, `<uuid>/layer-prevention.json`, `<uuid>/bundle.json`. */
  answer(path: string): Promise<ReportAnswer>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

function notFoundPage(what: string): ReportAnswer {
  return {
    status: 404,
    contentType: HTML,
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Coverage not found</title></head><body style="font-family:system-ui,sans-serif;padding:24px"><h1>Coverage not found</h1><p>${escapeHtml(what)}</p><p>The address is <code>/coverages/&lt;coverage uuid&gt;</code>, as linked from the coverage in OpenCTI.</p></body></html>\n`,
  };
}

interface Assessed {
  request: CoverageRequest;
  result: AssessmentResult;
  bundle: StixBundle;
  at: number;
}

export function createCoverageReportService(deps: CoverageReportDeps): CoverageReportService {
  const cache = new Map<string, Assessed>();
  const cacheMs = deps.settings.cacheMs ?? 60000;

  async function assess(uuid: string): Promise<Assessed | null> {
    const now = deps.clock();
    const hit = cache.get(uuid);
    if (hit && now.getTime() - hit.at < cacheMs) return hit;
    const state = await deps.coverage.getCoverage(`security-coverage--${uuid}`);
    if (!state?.covered) return null;
    const coverage: StixObject = { type: 'security-coverage', id: state.standardId, name: state.name, covered_ref: state.covered.standardId };
    const patterns = await deps.coverage.listAttackPatterns({ id: state.covered.standardId, entityType: state.covered.entityType });
    const request = resolveCoverageRequest(
      { objects: [coverage, ...patterns], coverage, coveredId: state.covered.standardId },
      { rollupSubtechniques: deps.settings.rollupSubtechniques, maxTechniques: deps.settings.maxTechniques },
    );
    const result = await deps.assessor.assess(request, { now });
    const validity = validityWindow(now, state.periodicity, deps.settings.timezone, deps.settings.defaultPeriodicity);
    const externalUri = coverageExternalUri(deps.settings.externalUri, { standardId: state.standardId, internalId: state.id });
    const bundle = buildResultBundle(request, result, { now, validity, externalUri, explanations: true });
    const assessed = { request, result, bundle, at: now.getTime() };
    // Bounded: the oldest entries go first.
    return setBounded(cache, uuid, assessed, 200);
  }

  return {
    async answer(path) {
      const [uuid, file, ...rest] = path.split('/');
      if (!uuid || !UUID.test(uuid) || rest.length > 0 || (file !== undefined && !['layer-detection.json', 'layer-prevention.json', 'bundle.json'].includes(file))) {
        return notFoundPage('This is not the address of a coverage report.');
      }
      const assessed = await assess(uuid.toLowerCase());
      if (!assessed) return notFoundPage(`OpenCTI has no coverage security-coverage--${uuid} that this connector can read.`);
      const { request, result, bundle } = assessed;
      if (file === 'bundle.json') return { status: 200, contentType: JSON_TYPE, body: `${JSON.stringify(bundle, null, 2)}\n`, filename: `coverage-${uuid}.json` };
      if (file) {
        const kind = file === 'layer-detection.json' ? 'DETECTION' : 'PREVENTION';
        const layer: NavigatorLayer = buildNavigatorLayer(request, result, kind);
        return { status: 200, contentType: JSON_TYPE, body: `${JSON.stringify(layer, null, 2)}\n`, filename: `coverage-${uuid}-${kind.toLowerCase()}.json` };
      }
      const input = reportInputOf(request, result);
      // The trend is a bonus: a history store that is down still serves the page.
      const trendSvg = deps.trend ? await deps.trend(request.coverageId).catch(() => undefined) : undefined;
      const html = renderReportHtml({
        ...input,
        ...(trendSvg ? { trendSvg } : {}),
        links: { detectionLayer: `${uuid}/layer-detection.json`, preventionLayer: `${uuid}/layer-prevention.json`, bundle: `${uuid}/bundle.json` },
      });
      return { status: 200, contentType: HTML, body: html };
    },
  };
}
