import type { EnrichmentMessage } from '../../schemas/message';
import type { CoverageApi, CoverageState } from '../adapters/opencti/coverage-api';
import type { RequestOptions } from '../adapters/opencti/graphql-client';
import type { Assessor, AssessmentResult } from '../domain/assessment/assessment-types';
import type { CoverageRequest, ScoreEntry } from '../domain/coverage/coverage-types';
import { resolveCoverageRequest } from '../domain/coverage/technique-resolution';
import { planWrites, writesNothing, type WritePlan } from '../domain/coverage/write-plan';
import { coverageExternalUri, type ExternalUriSettings } from '../domain/platform/external-uri';
import { validityWindow } from '../domain/schedule/validity';
import { buildResultBundle, coverageObjectOf } from '../domain/stix/result-bundle';
import type { StixBundle, StixObject } from '../domain/stix/stix-types';
import { AssessmentError, InvalidMessageError } from '../errors';
import type { JobObserver } from './job-observer';
import type { Logger } from './logger';
import type { WorkApi } from '../adapters/opencti/work-api';
import { pushObjects, type PushCounting, type PushOne, type PushProgress, type ReceivedBy } from './result-pusher';
import type { RunRecorder } from './run-record';
import { settledGlance, settledRunKey, type SettledRun, type SettledRuns } from './settled-runs';

/**
 * One enrichment request, from parsed message to written result (docs/processing-flow.md). Throws on
 * failure; the worker decides (src/app/outcome.ts) and always closes the work.
 */

export type JobOutcome = 'pushed' | 'unchanged' | 'skipped';

export interface JobResult {
  outcome: JobOutcome;
  /** What the work's message says (shown in OpenCTI). */
  note: string;
  /** Close the work in error (the request could not be served, but retrying or dead-lettering would not help). */
  inError?: boolean;
  /** What was written, for the job's closing log line (one line per run: logging is a visible share of a run's CPU). */
  written?: { objects: number; deleted: number; foreign: number; scores: ScoreEntry[]; reasons: string[] };
}

export interface JobSettings {
  scope: string[];
  rollupSubtechniques: boolean;
  maxTechniques: number;
  defaultPeriodicity: string;
  timezone: string;
  /** Relationship pushes in flight per job. */
  pushParallelism?: number;
  /** Period bounds (config scheduler.min_periodicity / max_duration) so valid_to matches the scheduler's plan. */
  periodBounds?: { minPeriodicity?: string; maxDuration?: string };
  /** Where the coverage's external_uri points (docs/processing-flow.md). */
  externalUri: ExternalUriSettings;
  /** This connector's id (a new work is added under it when the enrichment work cannot count our pushes). */
  connectorId?: string;
}

export interface JobDeps {
  coverage: CoverageApi;
  assessor: Assessor;
  /** Works: expectation counter (topped up when the platform did not count), a new work when needed. */
  work: Pick<WorkApi, 'expected' | 'addExpectations' | 'tracking' | 'add' | 'toProcessed'>;
  /**
   * Pushes a one-object bundle in `workId`; a draft run must reach the draft (the broker push carries
   * `draft_id`). `platformMayCount` false: the push goes through the broker, which no platform counts.
   */
  pushOne: (workId: string | null, draftId: string | null) => PushOne & { platformMayCount?: boolean };
  observer: JobObserver;
  clock: () => Date;
  settings: JobSettings;
  /** Keeps each run's result (score history); a failing recorder never fails the run. */
  recorder?: RunRecorder;
  /** Whether the platform counts our GraphQL pushes, as the works showed it (src/app/result-pusher.ts). */
  pushCounting?: PushCounting;
  /** Runs that found nothing to write, by coverage: a run with the same inputs skips to the outcome. */
  settled?: SettledRuns;
}

export interface JobContext {
  log: Logger;
  signal: AbortSignal;
  /** Kept across the attempts of one delivery (no double push, no double expectations). */
  progress: PushProgress;
  /**
   * The broker delivers this message for the first time and it is no replayed dead letter: no other
   * process can have written into its work, so the work is not read before pushing.
   */
  firstDelivery?: boolean;
  /** Marks the work received (once per delivery); awaited before the first write. */
  received?: () => Promise<void>;
  /** The same, carried by the first write itself (one call less): src/app/result-pusher.ts. */
  receivedBy?: ReceivedBy;
}

const COVERAGE_ENTITY_TYPE = 'security-coverage';

const scoresText = (scores: ScoreEntry[]): string =>
  scores.length === 0 ? 'no technique tested' : scores.map((s) => `${s.name} ${s.score}`).join(', ');

/** STIX type of a standard id (`report--…` → `report`). */
const typeOfId = (id: string): string => id.split('--')[0] ?? '';

function coverageScoresOf(bundle: StixBundle): ScoreEntry[] {
  const cov = bundle.objects.find((o) => o.type === COVERAGE_ENTITY_TYPE);
  return Array.isArray(cov?.coverage) ? (cov.coverage as ScoreEntry[]) : [];
}

async function contentOf(deps: JobDeps, message: EnrichmentMessage, state: CoverageState, options: RequestOptions): Promise<StixObject[]> {
  const entity = message.event.stix_entity;
  if (message.event.stix_objects) return message.event.stix_objects as StixObject[];
  // Registered with enrichment_resolution stix_bundle this is rare (manual runs on some versions,
  // pitfall P7): page the content through GraphQL instead.
  const coveredRef = state.covered?.standardId ?? (typeof entity.covered_ref === 'string' ? entity.covered_ref : undefined);
  if (!coveredRef) throw new InvalidMessageError(`coverage ${entity.id} has no covered_ref`);
  const entityType = state.covered?.entityType ?? typeOfId(coveredRef);
  const patterns = await deps.coverage.listAttackPatterns({ id: coveredRef, entityType }, options);
  return [entity as StixObject, ...patterns];
}

const EMPTY_RESULT = (backend: string, now: Date): AssessmentResult => ({ backend, runAt: now.toISOString(), techniques: [], overall: [], gaps: [], warnings: [] });

function planNote(plan: WritePlan, pushed: number, scores: ScoreEntry[], request: CoverageRequest, backend: string): string {
  const parts = [`Pushed ${pushed} object(s): ${scoresText(scores)}; ${request.techniques.length} technique(s) assessed by ${backend}`];
  if (plan.deletions.length > 0) parts.push(`removed ${plan.deletions.length} has-covered of techniques no longer in the container`);
  if (plan.foreignTargets.length > 0) parts.push(`${plan.foreignTargets.length} technique(s) keep another writer's has-covered (not overwritten)`);
  return parts.join('; ');
}

/** Runs of one coverage in this process, one at a time (keyed per JobDeps, i.e. per worker). */
const coverageQueues = new WeakMap<JobDeps, Map<string, Promise<unknown>>>();

/**
 * One run per coverage at a time: the re-trigger of our own write can arrive while the run that wrote
 * is still recording its history; run together, both would compare with the same previous run and
 * both mark the regression. Different coverages still run in parallel.
 */
export async function runEnrichment(deps: JobDeps, message: EnrichmentMessage, ctx: JobContext): Promise<JobResult> {
  let queues = coverageQueues.get(deps);
  if (!queues) coverageQueues.set(deps, (queues = new Map()));
  const key = message.event.entity_id;
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => runOne(deps, message, ctx));
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

async function runOne(deps: JobDeps, message: EnrichmentMessage, ctx: JobContext): Promise<JobResult> {
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
  const draftId = internal.draft_id ?? null;
  // Inside a draft, reads and deletes see and change the draft (pycti sends this header too).
  const platformOptions: RequestOptions = { signal: ctx.signal, ...(draftId ? { headers: { 'opencti-draft-id': draftId } } : {}) };

  const state = await deps.coverage.getCoverage(event.entity_id, platformOptions);
  if (!state) {
    return {
      outcome: 'skipped',
      inError: true,
      note: `Cannot read coverage ${event.entity_id}: the connector's user does not see it (outside its groups, organisation or markings) or it was deleted since the request; grant the connector user access to it and run the enrichment again`,
    };
  }
  const disabled = state.autoEnrichmentDisable || entity.auto_enrichment_disable === true;
  if (disabled && internal.mode !== 'manual') {
    return { outcome: 'skipped', note: 'Skipped: the coverage is in manual-input mode (auto_enrichment_disable); automatic enrichment does not apply' };
  }

  const objects = await contentOf(deps, message, state, platformOptions);
  let request: CoverageRequest = resolveCoverageRequest(
    { objects, coverage: entity as StixObject, ...(state.covered ? { coveredId: state.covered.standardId } : typeof entity.covered_ref === 'string' ? { coveredId: entity.covered_ref } : {}) },
    { rollupSubtechniques: settings.rollupSubtechniques, maxTechniques: settings.maxTechniques },
  );
  // The platform's stored state is authoritative (the message may be stale): name and current scores.
  request = { ...request, coverageId: state.standardId, coverageName: state.name, ...(state.coverage ? { currentCoverage: state.coverage } : {}) };

  const runAt = deps.clock();
  // A scheduled or operator run (mode manual) whose stored validity has lapsed rewrites the dates even
  // with unchanged scores; automatic re-triggers never do, so the echo of that write pushes nothing.
  const refreshDates = internal.mode === 'manual' && state.validTo !== undefined && Date.parse(state.validTo) <= runAt.getTime() && request.techniques.length > 0;
  const inputsVersion = deps.settled && !draftId && request.techniques.length > 0 && ctx.progress.pushed.size === 0 ? deps.assessor.inputsVersion?.(request) : undefined;
  // The digest is computed only when it can matter: to compare with a settled run that glances the same, or to keep it.
  const glance = inputsVersion !== undefined ? settledGlance(state) : undefined;
  let settledKey: string | undefined;
  const keyOf = (version: string): string => (settledKey ??= settledRunKey(version, request, state));
  const settled = inputsVersion !== undefined ? deps.settled?.get(state.standardId) : undefined;
  if (settled && inputsVersion !== undefined && settled.glance === glance && settled.key === keyOf(inputsVersion)) {
    if (!refreshDates && (await recordSettled(deps, ctx, { state, runAt, settled, outcome: 'unchanged' }))) {
      deps.observer.scored?.(state.standardId, settled.overall, settled.counts);
      return { outcome: 'unchanged', note: settled.note };
    }
    // Only the validity dates are due: the coverage object with new dates is the whole write.
    if (refreshDates && historyTakesRepeats(deps, settled)) {
      return refreshSettled(deps, message, ctx, { state, request, runAt, settled, draftId, platformOptions });
    }
  }

  let result: AssessmentResult;
  if (request.techniques.length > 0) {
    ctx.log.debug({ techniques: request.techniques.length, unmatched: request.unmatched.length }, 'assessing coverage');
    const started = process.hrtime.bigint();
    result = await deps.assessor.assess(request, { now: runAt, signal: ctx.signal });
    deps.observer.assessed(deps.assessor.name, Number(process.hrtime.bigint() - started) / 1e9);
    for (const w of result.warnings) ctx.log.warn({ warning: w }, 'assessment warning');
  } else {
    // Nothing left to assess: still remove what earlier runs wrote for techniques that left the container.
    result = EMPTY_RESULT(deps.assessor.name, runAt);
  }

  let counts: SettledRun['counts'] | undefined;
  if (request.techniques.length > 0) {
    const tested = result.techniques.filter((t) => t.tested);
    const covered = tested.filter((t) => (t.detection ?? 0) >= 50).length;
    counts = { covered, uncovered: tested.length - covered, notTested: request.techniques.length - tested.length };
    deps.observer.scored?.(state.standardId, result.overall, counts);
  }

  const { validity, externalUri } = resultStamps(settings, request, state, runAt);
  const bundle = buildResultBundle(request, result, { now: runAt, validity, externalUri, explanations: true });
  const plan = planWrites({
    coverageId: state.standardId,
    desired: bundle,
    stored: { ...(state.coverage ? { scores: state.coverage } : {}), ...(state.externalUri ? { externalUri: state.externalUri } : {}) },
    hasCovered: state.hasCovered,
    notes: state.notes,
    refreshDates,
  });
  const scores = coverageScoresOf(bundle);
  // Shutdown grace elapsed while assessing: the message is requeued, so do not write from here.
  if (ctx.signal.aborted) throw new Error('job aborted by shutdown before writing');

  // Nothing to assess and nothing of ours to clean up: say so (the coverage is left as it is).
  const ownsSomething = (state.coverage ?? []).length > 0 || plan.deletions.length > 0;
  if (request.techniques.length === 0 && !ownsSomething && ctx.progress.pushed.size === 0) {
    const unmatched = request.unmatched.length > 0 ? ` (${request.unmatched.length} attack pattern(s) without an ATT&CK id)` : '';
    throw new AssessmentError(`the covered entity ${request.coveredRef} has no ATT&CK attack pattern to assess${unmatched}`, 'NO_ATTACK_PATTERNS');
  }
  if (writesNothing(plan)) {
    const snapshotHash = await record(deps, ctx, { state, runAt, outcome: 'unchanged', request, result, draftId });
    const pushedBefore = ctx.progress.pushed.size;
    const foreign = plan.foreignTargets.length > 0 ? `; ${plan.foreignTargets.length} technique(s) keep another writer's has-covered` : '';
    if (pushedBefore > 0) return { outcome: 'pushed', note: `Pushed ${pushedBefore} object(s) in an earlier attempt: ${scoresText(scores)}` };
    const note = `Coverage unchanged (${scoresText(scores)}): nothing pushed${foreign}`;
    // With a history, only a recorded run can be repeated by hash.
    if (inputsVersion !== undefined && glance !== undefined && counts && (snapshotHash !== undefined || !deps.recorder)) {
      deps.settled?.set(state.standardId, { key: keyOf(inputsVersion), glance, ...(snapshotHash !== undefined ? { snapshotHash } : {}), note, overall: result.overall, counts });
    }
    return { outcome: 'unchanged', note };
  }

  const writeStarted = process.hrtime.bigint();
  const note = (pushed: number): string => planNote(plan, pushed, scores, request, result.backend);
  await writeObjects(deps, message, ctx, { pushes: plan.pushes, deletions: plan.deletions, draftId, platformOptions, coverageName: state.name, note });
  deps.observer.pushed(Number(process.hrtime.bigint() - writeStarted) / 1e9);
  await record(deps, ctx, { state, runAt, outcome: 'pushed', request, result, draftId });
  return {
    outcome: 'pushed',
    note: note(ctx.progress.pushed.size),
    written: { objects: plan.pushes.length, deleted: plan.deletions.length, foreign: plan.foreignTargets.length, scores, reasons: plan.reasons.slice(0, 20) },
  };
}

/** The validity window and the link a run's result carries (the full result and a date refresh alike). */
function resultStamps(settings: JobSettings, request: CoverageRequest, state: CoverageState, runAt: Date): { validity: ReturnType<typeof validityWindow>; externalUri: string } {
  return {
    validity: validityWindow(runAt, request.periodicity, settings.timezone, settings.defaultPeriodicity, settings.periodBounds ?? {}),
    externalUri: coverageExternalUri(settings.externalUri, { standardId: state.standardId, internalId: state.id }),
  };
}

/** Deletions, then pushes into the run's work (toReceived carried by the first write when it can be). */
async function writeObjects(
  deps: JobDeps,
  message: EnrichmentMessage,
  ctx: JobContext,
  w: { pushes: StixObject[]; deletions: Array<{ id: string }>; draftId: string | null; platformOptions: RequestOptions; coverageName: string; note: (pushed: number) => string },
): Promise<void> {
  if (w.deletions.length > 0) await ctx.received?.();
  for (const rel of w.deletions) await deps.coverage.deleteRelationship(rel.id, w.platformOptions);
  const workId = await resultWork(deps, message, ctx, w.coverageName);
  // The first push (or expectation) marks the enrichment work received in the same call; results
  // going to another work mark it on their own first.
  const carryReceived = ctx.receivedBy && workId !== null && workId === message.internal.work_id ? ctx.receivedBy : undefined;
  if (!carryReceived) await ctx.received?.();
  const pushOne = deps.pushOne(workId, w.draftId);
  await pushObjects(w.pushes, {
    workId,
    pushOne,
    work: deps.work,
    progress: ctx.progress,
    parallelism: deps.settings.pushParallelism ?? 1,
    platformMayCount: pushOne.platformMayCount !== false,
    ...(deps.pushCounting ? { counting: deps.pushCounting } : {}),
    ...(carryReceived ? { receivedBy: carryReceived } : {}),
  });
  // Nothing carried it (every object pushed by an earlier attempt, say): marked now, before closing.
  await ctx.received?.();
  if (workId && workId !== message.internal.work_id) await deps.work.toProcessed(workId, w.note(ctx.progress.pushed.size), false);
}

/**
 * A run whose inputs are those of the coverage's last no-change run, with lapsed validity dates (a
 * scheduled run): the result is the one already stored, so the coverage object with the new dates is
 * pushed without assessing again, and the run goes into the history as a repeat of that snapshot.
 */
async function refreshSettled(
  deps: JobDeps,
  message: EnrichmentMessage,
  ctx: JobContext,
  r: { state: CoverageState; request: CoverageRequest; runAt: Date; settled: SettledRun; draftId: string | null; platformOptions: RequestOptions },
): Promise<JobResult> {
  const { validity, externalUri } = resultStamps(deps.settings, r.request, r.state, r.runAt);
  const coverage = coverageObjectOf(r.request, { overall: [...r.settled.overall] }, { now: r.runAt, validity, externalUri });
  const scores = Array.isArray(coverage.coverage) ? (coverage.coverage as ScoreEntry[]) : [];
  deps.observer.scored?.(r.state.standardId, r.settled.overall, r.settled.counts);
  if (ctx.signal.aborted) throw new Error('job aborted by shutdown before writing');
  const writeStarted = process.hrtime.bigint();
  const note = (pushed: number): string =>
    `Pushed ${pushed} object(s): ${scoresText(scores)}; validity renewed${validity.validTo ? ` to ${validity.validTo}` : ''}; rules, content and stored results unchanged since the last assessment`;
  await writeObjects(deps, message, ctx, { pushes: [coverage], deletions: [], draftId: r.draftId, platformOptions: r.platformOptions, coverageName: r.state.name, note });
  deps.observer.pushed(Number(process.hrtime.bigint() - writeStarted) / 1e9);
  if (!(await recordSettled(deps, ctx, { state: r.state, runAt: r.runAt, settled: r.settled, outcome: 'pushed' }))) {
    // The history cannot take it as a repeat (a regression is open, or another run came between):
    // the run is recorded in full, which needs its result.
    const result = await deps.assessor.assess(r.request, { now: r.runAt, signal: ctx.signal });
    await record(deps, ctx, { state: r.state, runAt: r.runAt, outcome: 'pushed', request: r.request, result, draftId: r.draftId });
  }
  return { outcome: 'pushed', note: note(ctx.progress.pushed.size), written: { objects: 1, deleted: 0, foreign: 0, scores, reasons: ['validity dates due; inputs unchanged'] } };
}

/**
 * The work this delivery's pushes go to. Normally the enrichment work. But when this process finds it
 * already written into (a process that died mid-run pushed, and its imports may still be arriving
 * uncounted), those imports would let the work complete before ours are imported, and the platform
 * drops imports into a complete work: our pushes then go into a new work whose count is ours alone,
 * and the enrichment work closes as usual once the earlier imports are in. Only a redelivered or
 * replayed message can find that: on a first delivery the work is not read.
 */
async function resultWork(deps: JobDeps, message: EnrichmentMessage, ctx: JobContext, coverageName: string): Promise<string | null> {
  const enrichmentWork = message.internal.work_id;
  if (ctx.progress.workId !== undefined) return ctx.progress.workId;
  let chosen = enrichmentWork;
  if (enrichmentWork && ctx.firstDelivery) {
    ctx.progress.baseline = 0;
  } else if (enrichmentWork) {
    const used = await deps.work.tracking(enrichmentWork);
    if ((used.expected > 0 || used.processed > 0) && deps.settings.connectorId) {
      // Imports already reported but never counted (the interrupted run died before counting them):
      // count them now, so the work ends with processed = expected.
      if (used.processed > used.expected) await deps.work.addExpectations(enrichmentWork, used.processed - used.expected);
      chosen = await deps.work.add(deps.settings.connectorId, `${coverageName}: results after an interrupted run`);
      ctx.log.warn({ work_id: enrichmentWork, results_work_id: chosen, expected: used.expected, processed: used.processed }, 'the enrichment work was written into by an interrupted run: results go to a new work');
      ctx.progress.baseline = 0;
    } else {
      ctx.progress.baseline = used.expected;
    }
  }
  ctx.progress.workId = chosen;
  return chosen;
}

async function record(
  deps: JobDeps,
  ctx: JobContext,
  run: { state: CoverageState; runAt: Date; outcome: 'pushed' | 'unchanged'; request: CoverageRequest; result: AssessmentResult; draftId: string | null },
): Promise<string | undefined> {
  // Once per delivery, whatever the attempts.
  if (!deps.recorder || run.request.techniques.length === 0 || ctx.progress.recorded) return undefined;
  ctx.progress.recorded = true;
  try {
    return await deps.recorder.record({
      coverageId: run.state.standardId,
      coverageInternalId: run.state.id,
      coverageName: run.state.name,
      runAt: run.runAt,
      outcome: run.outcome,
      request: run.request,
      result: run.result,
      draftId: run.draftId,
    });
  } catch (err) {
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'score history not recorded');
    return undefined;
  }
}

/** Whether the history (if any) can record a run as a repeat of `settled`'s snapshot. */
function historyTakesRepeats(deps: JobDeps, settled: SettledRun): boolean {
  return !deps.recorder || (deps.recorder.recordSettled !== undefined && settled.snapshotHash !== undefined);
}

/** A repeat of a settled run into the history; false when the history cannot take it so (run in full). */
async function recordSettled(deps: JobDeps, ctx: JobContext, run: { state: CoverageState; runAt: Date; settled: SettledRun; outcome: 'pushed' | 'unchanged' }): Promise<boolean> {
  if (!deps.recorder || ctx.progress.recorded) return true;
  if (!deps.recorder.recordSettled || run.settled.snapshotHash === undefined) return false;
  try {
    const stored = await deps.recorder.recordSettled({
      coverageId: run.state.standardId,
      coverageInternalId: run.state.id,
      coverageName: run.state.name,
      runAt: run.runAt,
      outcome: run.outcome,
      snapshotHash: run.settled.snapshotHash,
    });
    if (stored) ctx.progress.recorded = true;
    return stored;
  } catch (err) {
    ctx.progress.recorded = true;
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'score history not recorded');
    return true;
  }
}
