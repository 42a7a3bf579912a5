import type { EnrichmentMessage } from '../../schemas/message';
import type { CoverageApi, CoverageState } from '../adapters/opencti/coverage-api';
import { BASELINE_PROFILE, defaultInstanceUri, externalUriFor, type PlatformProfile } from '../adapters/opencti/platform-version'; // VERSIONS
import type { Assessor, AssessmentResult } from '../domain/assessment/assessment-types';
import { resolveCoverageRequest } from '../domain/coverage/technique-resolution';
import { sameCoverage } from '../domain/coverage/score-equality';
import type { CoverageRequest, ScoreEntry } from '../domain/coverage/coverage-types';
import { validityWindow } from '../domain/schedule/validity';
import { buildResultBundle } from '../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';
import { AssessmentError, InvalidMessageError } from '../errors';
import type { Logger } from './logger';
import type { JobObserver } from './job-observer';
import { pushBundle, type PushOne, type PushProgress } from './result-pusher';

/**
 * One enrichment request, from parsed message to pushed result (docs/processing-flow.md). Throws on
 * failure; the worker decides (src/app/outcome.ts) and always closes the work.
 */

export type JobOutcome = 'pushed' | 'unchanged' | 'skipped';

export interface JobResult {
  outcome: JobOutcome;
  /** What the work's message says (shown in OpenCTI). */
  note: string;
}

export interface JobSettings {
  scope: string[];
  rollupSubtechniques: boolean;
  maxTechniques: number;
  defaultPeriodicity: string;
  timezone: string;
  /** `split` (default): one-object bundles in the enrichment work; `bundle`: one push into a new platform work. */
  pushStrategy?: 'split' | 'bundle';
  /** One-object pushes in flight per job (split strategy). */
  pushParallelism?: number;
  /** Period bounds (config scheduler.min_periodicity / max_duration) so valid_to matches the scheduler's plan. */
  periodBounds?: { minPeriodicity?: string; maxDuration?: string };
  externalUri?: string;
  /** VERSIONS: what the platform can do (default: the 6.9 baseline); see docs/compatibility.md. */
  platform?: PlatformProfile;
  /** VERSIONS: this assessor instance (7.x external_uri = `<instanceUri>/coverages/<coverage uuid>`). */
  instanceUri?: string;
}

export interface JobDeps {
  coverage: CoverageApi;
  assessor: Assessor;
  addExpectations: (workId: string, count: number) => Promise<void>;
  /** Pushes a one-object bundle in `workId` (graphql or amqp mode). */
  pushOne: (workId: string | null, draftId: string | null) => PushOne;
  /** `bundle` strategy: the whole result in one stixBundlePush with no work id (the platform makes a work and splits it). */
  pushWhole?: (bundle: StixBundle, draftId: string | null) => Promise<void>;
  observer: JobObserver;
  clock: () => Date;
  settings: JobSettings;
}

export interface JobContext {
  log: Logger;
  signal: AbortSignal;
  /** Kept across the attempts of one delivery (no double push, no double expectations). */
  progress: PushProgress;
}

const COVERAGE_ENTITY_TYPE = 'security-coverage';

const scoresText = (scores: ScoreEntry[]): string =>
  scores.length === 0 ? 'no technique tested' : scores.map((s) => `${s.name} ${s.score}`).join(', ');

/** STIX type of a standard id (`report--…` → `report`). */
const typeOfId = (id: string): string => id.split('--')[0] ?? '';

/** `has-covered` targets → scores, from a result bundle. */
function hasCoveredOf(bundle: StixBundle): Map<string, ScoreEntry[]> {
  const out = new Map<string, ScoreEntry[]>();
  for (const o of bundle.objects) {
    if (o.type !== 'relationship' || o.relationship_type !== 'has-covered') continue;
    out.set(String(o.target_ref), Array.isArray(o.coverage) ? (o.coverage as ScoreEntry[]) : []);
  }
  return out;
}

function coverageScoresOf(bundle: StixBundle): ScoreEntry[] {
  const cov = bundle.objects.find((o) => o.type === COVERAGE_ENTITY_TYPE);
  return Array.isArray(cov?.coverage) ? (cov.coverage as ScoreEntry[]) : [];
}

/** Loop guard (pitfall P1): same coverage scores and the same has-covered set with the same scores. */
async function unchanged(deps: JobDeps, coverageId: string, current: ScoreEntry[] | undefined, bundle: StixBundle, signal: AbortSignal): Promise<boolean> {
  if (!sameCoverage(current, coverageScoresOf(bundle))) return false;
  const next = hasCoveredOf(bundle);
  const stored = await deps.coverage.listHasCovered(coverageId, { signal });
  if (stored.length !== next.size) return false;
  for (const rel of stored) {
    const scores = next.get(rel.targetId);
    if (!scores || !sameCoverage(rel.coverage, scores)) return false;
  }
  return true;
}

async function contentOf(deps: JobDeps, message: EnrichmentMessage, state: CoverageState | null, signal: AbortSignal): Promise<StixObject[]> {
  const entity = message.event.stix_entity;
  if (message.event.stix_objects) return message.event.stix_objects as StixObject[];
  // Registered with enrichment_resolution stix_bundle this is rare (manual runs on some versions,
  // pitfall P7): page the content through GraphQL instead.
  const coveredRef = typeof entity.covered_ref === 'string' ? entity.covered_ref : state?.covered?.standardId;
  if (!coveredRef) throw new InvalidMessageError(`coverage ${entity.id} has no covered_ref`);
  const entityType = state?.covered?.entityType ?? typeOfId(coveredRef);
  const patterns = await deps.coverage.listAttackPatterns({ id: coveredRef, entityType }, { signal });
  return [entity as StixObject, ...patterns];
}

export async function runEnrichment(deps: JobDeps, message: EnrichmentMessage, ctx: JobContext): Promise<JobResult> {
  const { event, internal } = message;
  const { settings } = deps;
  const entityType = event.entity_type.toLowerCase();
  if (!settings.scope.some((s) => s.toLowerCase() === entityType)) {
    return { outcome: 'skipped', note: `Skipped: entity type ${event.entity_type} is outside the connector scope (${settings.scope.join(', ')})` };
  }
  const entity = event.stix_entity;
  if (entityType !== COVERAGE_ENTITY_TYPE || entity.type !== COVERAGE_ENTITY_TYPE) {
    throw new InvalidMessageError(
      `unknown entity type: entity_type ${event.entity_type}, stix_entity type ${entity.type}; this connector assesses Security-Coverage only`,
    );
  }

  const state = await deps.coverage.getCoverage(event.entity_id, { signal: ctx.signal });
  if (!state) return { outcome: 'skipped', note: `Skipped: coverage ${event.entity_id} no longer exists in OpenCTI` };
  const disabled = state.autoEnrichmentDisable || entity.auto_enrichment_disable === true;
  if (disabled && internal.mode !== 'manual') {
    return { outcome: 'skipped', note: 'Skipped: the coverage is in manual-input mode (auto_enrichment_disable); automatic enrichment does not apply' };
  }

  const objects = await contentOf(deps, message, state, ctx.signal);
  let request: CoverageRequest = resolveCoverageRequest(
    { objects, coverage: entity as StixObject, ...(typeof entity.covered_ref === 'string' ? { coveredId: entity.covered_ref } : {}) },
    { rollupSubtechniques: settings.rollupSubtechniques, maxTechniques: settings.maxTechniques },
  );
  if (request.techniques.length === 0) {
    const unmatched = request.unmatched.length > 0 ? ` (${request.unmatched.length} attack pattern(s) without an ATT&CK id)` : '';
    throw new AssessmentError(`the covered entity ${request.coveredRef} has no ATT&CK attack pattern to assess${unmatched}`, 'NO_ATTACK_PATTERNS');
  }
  // The platform's stored scores are authoritative for the loop guard (the message may be stale).
  if (state.coverage) request = { ...request, currentCoverage: state.coverage };
  ctx.log.info({ techniques: request.techniques.length, unmatched: request.unmatched.length }, 'assessing coverage');

  const runAt = deps.clock();
  const started = process.hrtime.bigint();
  const result: AssessmentResult = await deps.assessor.assess(request, { now: runAt, signal: ctx.signal });
  deps.observer.assessed(deps.assessor.name, Number(process.hrtime.bigint() - started) / 1e9);
  for (const w of result.warnings) ctx.log.warn({ warning: w }, 'assessment warning');

  const validity = validityWindow(runAt, request.periodicity, settings.timezone, settings.defaultPeriodicity, settings.periodBounds ?? {});
  // VERSIONS: 6.x keeps the backend's link; 7.x writes the stable key of our Result (docs/compatibility.md).
  const platform = settings.platform ?? BASELINE_PROFILE;
  const externalUri = externalUriFor(platform, {
    instanceUri: settings.instanceUri ?? defaultInstanceUri('unknown'),
    coverageId: request.coverageId,
    ...(result.externalUri ? { backendUri: result.externalUri } : {}),
    ...(settings.externalUri ? { configuredUri: settings.externalUri } : {}),
  });
  const bundle = buildResultBundle(request, result, { now: runAt, validity, ...(externalUri ? { externalUri } : {}) });
  const scores = coverageScoresOf(bundle);
  // Shutdown grace elapsed while assessing: the message is requeued, so do not push from here.
  if (ctx.signal.aborted) throw new Error('job aborted by shutdown before pushing');

  // VERSIONS: on 7.x the coverage-level state is not ours (our scores live on our Result) and our writes do not re-trigger: no guard.
  // A scheduled or operator run (mode manual) whose stored validity has lapsed pushes even with unchanged
  // scores, so last_result / valid_to stay fresh. Auto re-triggers (our own write-back) never do: no loop.
  const datesLapsed = internal.mode === 'manual' && state.validTo !== undefined && Date.parse(state.validTo) <= runAt.getTime();
  const guard = !platform.capabilities.resultEntity && !datesLapsed;
  if (guard && ctx.progress.pushed.size === 0 && (await unchanged(deps, event.entity_id, request.currentCoverage, bundle, ctx.signal))) {
    return { outcome: 'unchanged', note: `Coverage unchanged (${scoresText(scores)}): nothing pushed` };
  }
  const pushStarted = process.hrtime.bigint();
  if (settings.pushStrategy === 'bundle' && deps.pushWhole) {
    await deps.pushWhole(bundle, internal.draft_id ?? null);
    for (const o of bundle.objects) ctx.progress.pushed.add(o.id);
    deps.observer.pushed(Number(process.hrtime.bigint() - pushStarted) / 1e9);
    ctx.log.info({ objects: bundle.objects.length, scores }, 'result pushed as one bundle');
    return {
      outcome: 'pushed',
      note: `Pushed ${bundle.objects.length} object(s) as one bundle in a new platform work: ${scoresText(scores)}; ${request.techniques.length} technique(s) assessed by ${result.backend}`,
    };
  }
  const count = await pushBundle(bundle, {
    workId: internal.work_id,
    addExpectations: deps.addExpectations,
    pushOne: deps.pushOne(internal.work_id, internal.draft_id ?? null),
    progress: ctx.progress,
    parallelism: settings.pushParallelism ?? 1,
  });
  deps.observer.pushed(Number(process.hrtime.bigint() - pushStarted) / 1e9);
  ctx.log.info({ objects: count, scores }, 'result pushed');
  return {
    outcome: 'pushed',
    note: `Pushed ${ctx.progress.pushed.size} object(s): ${scoresText(scores)}; ${request.techniques.length} technique(s) assessed by ${result.backend}`,
  };
}
