import { BackendError } from '../../errors';
import { HttpFailure, type JsonHttp, type RequestBody } from '../http/json-http';
import type { RecurrenceBody } from './openaev-bundle';

/**
 * The OpenAEV REST calls the backend uses (endpoints and the versions checked: docs/backends.md).
 * Auth is `Authorization: Bearer <token>` (set on the JsonHttp). Every failure surfaces as a
 * BackendError: OPENAEV_UNREACHABLE (retryable), OPENAEV_AUTH, OPENAEV_REJECTED.
 */

/** `ExerciseSimple` as serialised by OpenAEV (only the fields we read). */
export interface OpenAevSimulation {
  exercise_id: string;
  exercise_name?: string;
  exercise_status: 'SCHEDULED' | 'CANCELED' | 'RUNNING' | 'PAUSED' | 'FINISHED' | string;
  exercise_start_date?: string | null;
  exercise_updated_at?: string | null;
}

/** `InjectExpectationResultUtils.ExpectationResultsByType` (a Java record: camelCase keys). */
export interface OpenAevResultsByType {
  type: 'PREVENTION' | 'DETECTION' | 'VULNERABILITY' | 'HUMAN_RESPONSE' | string;
  avgResult?: string;
  distribution: Array<{ id: 'SUCCESS' | 'PENDING' | 'PARTIAL' | 'FAILED' | string; label?: string; value: number }>;
}

/** `InjectExpectationResultsByAttackPattern`: results of the injects linked to one attack pattern. */
export interface OpenAevResultsByAttackPattern {
  /** OpenAEV's internal attack-pattern id (not the ATT&CK id). */
  inject_attack_pattern: string;
  inject_expectation_results: Array<{ inject_id: string; inject_title?: string; results: OpenAevResultsByType[] }>;
}

export interface OpenAevAttackPattern {
  attack_pattern_id: string;
  attack_pattern_external_id: string;
  attack_pattern_name?: string;
}

export interface OpenAevClient {
  /** POST /api/stix/process-bundle: upsert the scenario of the coverage; returns its id. */
  processBundle(bundle: (attempt: number) => unknown, signal?: AbortSignal): Promise<{ scenarioId: string; summary?: string }>;
  /** PUT /api/scenarios/{id}/recurrence. */
  setRecurrence(scenarioId: string, body: RecurrenceBody, signal?: AbortSignal): Promise<void>;
  /** GET /api/scenarios/{id}/exercises; undefined when the scenario no longer exists (404). */
  simulations(scenarioId: string, signal?: AbortSignal): Promise<OpenAevSimulation[] | undefined>;
  /** GET /api/exercises/{id}/injects/results-by-attack-patterns. */
  resultsByAttackPattern(simulationId: string, signal?: AbortSignal): Promise<OpenAevResultsByAttackPattern[]>;
  /** GET /api/attack_patterns/{id}; undefined when unknown (404). */
  attackPattern(attackPatternId: string, signal?: AbortSignal): Promise<OpenAevAttackPattern | undefined>;
}

/** Sent as `internal.work_id`: OpenAEV requires one; it must never name a real OpenCTI work. */
export const NO_WORK_ID = 'coverage-connector-no-work';

export function toBackendError(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof HttpFailure) {
    if (err.kind === 'unreachable') return new BackendError('OPENAEV_UNREACHABLE', `OpenAEV unreachable while ${what}: ${err.message}`, true, { cause: err });
    if (err.kind === 'auth') return new BackendError('OPENAEV_AUTH', `OpenAEV refused the token while ${what} (check OPENAEV_TOKEN and the user's rights): ${err.message}`, false, { cause: err });
    return new BackendError('OPENAEV_REJECTED', `OpenAEV rejected the request while ${what}: ${err.message}`, false, { cause: err });
  }
  return new BackendError('OPENAEV_UNREACHABLE', `OpenAEV call failed while ${what}: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
}

function isNotFound(err: unknown): boolean {
  return err instanceof HttpFailure && err.kind === 'rejected' && err.status === 404;
}

export function createOpenAevClient({ http }: { http: JsonHttp }): OpenAevClient {
  async function call<T>(what: string, method: string, path: string, body?: RequestBody, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return (await http.request<T>(method, path, body, { signal })).body;
    } catch (err) {
      throw toBackendError(err, what);
    }
  }

  return {
    async processBundle(bundle, signal) {
      // The body is the CTI event OpenCTI itself posts: the bundle travels as a JSON *string*. The
      // work id is a marker, not an OpenCTI work: OpenAEV's acknowledgement of it fails harmlessly
      // (caught and logged there), and our own work stays ours to close.
      const event = (attempt: number) => ({ internal: { work_id: NO_WORK_ID }, event: { stix_objects: JSON.stringify(bundle(attempt)) } });
      const report = await call<{ scenarioId?: string; importSummary?: string }>('sending the coverage bundle', 'POST', '/api/stix/process-bundle', event, signal);
      if (!report?.scenarioId) {
        // OpenAEV answers an empty 200 when its processing rules refuse a bundle (duplicate, obsolete, invalid).
        throw new BackendError('OPENAEV_REJECTED', 'OpenAEV refused the coverage bundle by its processing rules (duplicate, obsolete or invalid coverage; see the OpenAEV log)', false);
      }
      return { scenarioId: report.scenarioId, ...(report.importSummary ? { summary: report.importSummary } : {}) };
    },
    async setRecurrence(scenarioId, body, signal) {
      await call('setting the scenario recurrence', 'PUT', `/api/scenarios/${encodeURIComponent(scenarioId)}/recurrence`, body, signal);
    },
    async simulations(scenarioId, signal) {
      try {
        const res = await http.request<OpenAevSimulation[]>('GET', `/api/scenarios/${encodeURIComponent(scenarioId)}/exercises`, undefined, { signal });
        return Array.isArray(res.body) ? res.body : [];
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toBackendError(err, 'listing the simulations of the scenario');
      }
    },
    async resultsByAttackPattern(simulationId, signal) {
      const body = await call<OpenAevResultsByAttackPattern[]>('reading simulation results', 'GET', `/api/exercises/${encodeURIComponent(simulationId)}/injects/results-by-attack-patterns`, undefined, signal);
      if (!Array.isArray(body)) throw new BackendError('OPENAEV_REJECTED', `OpenAEV returned results that are not a list for simulation ${simulationId}`, false);
      return body;
    },
    async attackPattern(attackPatternId, signal) {
      try {
        return (await http.request<OpenAevAttackPattern>('GET', `/api/attack_patterns/${encodeURIComponent(attackPatternId)}`, undefined, { signal })).body;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toBackendError(err, 'resolving an attack pattern');
      }
    },
  };
}
