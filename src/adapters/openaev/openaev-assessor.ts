import { Duration } from 'luxon';
import { untestedAssessment } from '../../domain/assessment/assessment-types';
import { overallOf } from '../../domain/assessment/combine';
import { BackendError } from '../../errors';
import type { AssessContext, AssessmentResult, Assessor, TechniqueAssessment } from '../../domain/assessment/assessment-types';
import type { CoverageRequest } from '../../domain/coverage/coverage-types';
import type { KeyValueStore } from '../store/json-file-store';
import { buildCoverageBundle, coverageContentHash, recurrenceBody, type OpenAevScheduleInput } from './openaev-bundle';
import type { OpenAevClient, OpenAevSimulation } from './openaev-client';
import { scoreTechniques, type ResolvedPatternResults } from './openaev-results';

/**
 * The OpenAEV backend (docs/backends.md, "OpenAEV flow"). `assess()` never waits for a simulation:
 *  1. upsert the coverage's scenario — only when the content hash changed (no duplicate sends);
 *  2. apply the recurrence ourselves when periodicity/duration changed (OpenAEV ignores edits);
 *  3. report the latest FINISHED simulation's results; techniques without results come back
 *     `tested: false` (never 0) so the embedded estimate fills them.
 * State per coverage (scenario id, content hash, applied recurrence) lives in the injected store.
 */

export interface OpenAevState {
  scenarioId: string;
  contentHash: string;
  sentAt: string;
  /** `<period>|<duration>` or `draft`, as last applied with PUT …/recurrence. */
  recurrenceKey?: string;
}

export interface OpenAevAssessorOptions {
  client: OpenAevClient;
  store: KeyValueStore;
  /** OpenAEV base URL, for the links. */
  baseUrl: string;
  draft?: boolean;
  /** Used when the coverage has no (valid) periodicity / duration (config scheduler.default_*). */
  defaultPeriodicity: string;
  defaultDuration: string;
}

export const OPENAEV_BACKEND = 'openaev';

const stateKey = (coverageId: string) => `openaev:${coverageId}`;

function isValidIsoDuration(value: string | undefined): value is string {
  if (typeof value !== 'string') return false;
  const d = Duration.fromISO(value);
  return d.isValid && d.toMillis() > 0;
}

function latestFinished(simulations: OpenAevSimulation[]): OpenAevSimulation | undefined {
  const time = (s: OpenAevSimulation) => s.exercise_start_date ?? s.exercise_updated_at ?? '';
  return simulations.filter((s) => s.exercise_status === 'FINISHED').sort((a, b) => time(b).localeCompare(time(a)))[0];
}

export function createOpenAevAssessor(options: OpenAevAssessorOptions): Assessor {
  const { client, store } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const externalIds = new Map<string, string>(); // OpenAEV attack-pattern uuid → ATT&CK id (stable)
  const locks = new Map<string, Promise<unknown>>();

  /** One assessment per coverage at a time, so concurrent triggers cannot double-send (OpenAEV #4521). */
  function withCoverageLock<T>(coverageId: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(coverageId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(coverageId, tail);
    void tail.then(() => {
      if (locks.get(coverageId) === tail) locks.delete(coverageId);
    });
    return run;
  }

  function scheduleOf(request: CoverageRequest, warnings: string[]): OpenAevScheduleInput {
    const periodicity = isValidIsoDuration(request.periodicity) ? request.periodicity : options.defaultPeriodicity;
    const duration = isValidIsoDuration(request.duration) ? request.duration : options.defaultDuration;
    if (request.periodicity && periodicity !== request.periodicity) warnings.push(`periodicity ${request.periodicity} is not a valid ISO-8601 duration; using ${periodicity}`);
    if (request.duration && duration !== request.duration) warnings.push(`duration ${request.duration} is not a valid ISO-8601 duration; using ${duration}`);
    return { periodicity, duration };
  }

  async function ensureScenario(request: CoverageRequest, schedule: OpenAevScheduleInput, ctx: AssessContext, warnings: string[], force: boolean): Promise<OpenAevState> {
    const key = stateKey(request.coverageId);
    let state = await store.get<OpenAevState>(key);
    const hash = coverageContentHash(request, schedule);
    if (force || !state || state.contentHash !== hash) {
      const sent = await client.processBundle((attempt) => buildCoverageBundle(request, schedule, new Date(ctx.now.getTime() + attempt - 1)), ctx.signal);
      if (sent.summary && /does not contain injects/i.test(sent.summary)) warnings.push(`OpenAEV: ${sent.summary}`);
      // A new scenario (first send, or the old one was deleted) has no recurrence of ours yet.
      const keepRecurrence = state?.scenarioId === sent.scenarioId ? state.recurrenceKey : undefined;
      state = { scenarioId: sent.scenarioId, contentHash: hash, sentAt: ctx.now.toISOString(), ...(keepRecurrence ? { recurrenceKey: keepRecurrence } : {}) };
      await store.set(key, state);
    }
    const recurrence = recurrenceBody(schedule, ctx.now, options.draft === true);
    if (recurrence.warning) warnings.push(recurrence.warning);
    if (state.recurrenceKey !== recurrence.key) {
      try {
        await client.setRecurrence(state.scenarioId, recurrence.body, ctx.signal);
        state = { ...state, recurrenceKey: recurrence.key };
        await store.set(key, state);
      } catch (err) {
        // OpenAEV refuses to schedule a scenario it deems not launchable (e.g. placeholders only):
        // report it and try again next time rather than withhold the results.
        if (!(err instanceof BackendError) || err.retryable || err.code !== 'OPENAEV_REJECTED') throw err;
        warnings.push(`OpenAEV did not accept the recurrence ${JSON.stringify(recurrence.body.scenario_recurrence)}: ${err.message}`);
      }
    }
    return state;
  }

  async function resolveRows(simulationId: string, ctx: AssessContext, warnings: string[]): Promise<ResolvedPatternResults[]> {
    const raw = await client.resultsByAttackPattern(simulationId, ctx.signal);
    const rows: ResolvedPatternResults[] = [];
    for (const entry of raw) {
      const patternId = entry.inject_attack_pattern;
      if (!patternId) continue;
      let externalId = externalIds.get(patternId);
      if (!externalId) {
        const pattern = await client.attackPattern(patternId, ctx.signal);
        if (!pattern?.attack_pattern_external_id) {
          warnings.push(`OpenAEV attack pattern ${patternId} could not be resolved to an ATT&CK id; its results were skipped`);
          continue;
        }
        externalId = pattern.attack_pattern_external_id;
        externalIds.set(patternId, externalId);
      }
      rows.push({
        externalId,
        injects: (entry.inject_expectation_results ?? []).map((i) => ({ injectId: i.inject_id, ...(i.inject_title ? { title: i.inject_title } : {}), results: i.results ?? [] })),
      });
    }
    return rows;
  }

  function untested(request: CoverageRequest, reason: string, uri: string): TechniqueAssessment[] {
    return request.techniques.map((t) => untestedAssessment(t, OPENAEV_BACKEND, uri, [reason]));
  }

  async function assessOnce(request: CoverageRequest, ctx: AssessContext): Promise<AssessmentResult> {
    const warnings: string[] = [];
    const schedule = scheduleOf(request, warnings);
    let state = await ensureScenario(request, schedule, ctx, warnings, false);
    let simulations = await client.simulations(state.scenarioId, ctx.signal);
    if (simulations === undefined) {
      // The scenario was deleted in OpenAEV: recreate it once rather than report from nothing.
      warnings.push(`OpenAEV scenario ${state.scenarioId} no longer exists; the coverage was sent again`);
      await store.delete(stateKey(request.coverageId));
      state = await ensureScenario(request, schedule, ctx, warnings, true);
      simulations = (await client.simulations(state.scenarioId, ctx.signal)) ?? [];
    }
    const scenarioUri = `${base}/admin/scenarios/${state.scenarioId}`;
    const finished = latestFinished(simulations);
    const running = simulations.filter((s) => s.exercise_status === 'RUNNING' || s.exercise_status === 'PAUSED');
    if (running.length > 0) warnings.push(`${running.length} OpenAEV simulation(s) still running; their results count once finished`);

    let techniques: TechniqueAssessment[];
    let runAt = ctx.now.toISOString();
    if (!finished) {
      techniques = untested(request, 'not tested yet: no finished OpenAEV simulation for this coverage', scenarioUri);
    } else {
      const uri = `${base}/admin/simulations/${finished.exercise_id}`;
      const rows = await resolveRows(finished.exercise_id, ctx, warnings);
      const startedAt = finished.exercise_start_date ?? undefined;
      techniques = scoreTechniques(request.techniques, rows, { id: finished.exercise_id, name: finished.exercise_name, startedAt, uri });
      if (startedAt) runAt = new Date(startedAt).toISOString();
      const untestedCount = techniques.filter((t) => !t.tested).length;
      if (untestedCount > 0) warnings.push(`OpenAEV could not test ${untestedCount} of ${techniques.length} technique(s) (see has-covered covered: false)`);
    }
    return { backend: OPENAEV_BACKEND, runAt, externalUri: scenarioUri, techniques, overall: overallOf(techniques), gaps: [], warnings };
  }

  return {
    name: OPENAEV_BACKEND,
    assess: (request, ctx) => withCoverageLock(request.coverageId, () => assessOnce(request, ctx)),
  };
}
