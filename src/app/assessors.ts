import type { Config } from '../../schemas/config';
import { createJsonHttp } from '../adapters/http/json-http';
import { createOpenAevAssessor } from '../adapters/openaev/openaev-assessor';
import { createOpenAevClient } from '../adapters/openaev/openaev-client';
import { createElasticsearchSiemQuery, ELASTIC_PROFILE, WAZUH_PROFILE } from '../adapters/siem/elasticsearch-query';
import { createExecutionLog } from '../adapters/siem/execution-log';
import { createSiemAssessor, type SiemAssessor } from '../adapters/siem/siem-assessor';
import type { SiemQuery } from '../adapters/siem/siem-types';
import { createJsonFileStore, createMemoryStore, type KeyValueStore } from '../adapters/store/json-file-store';
import { combineAssessments } from '../domain/assessment/combine';
import type { AssessmentResult, Assessor } from '../domain/assessment/assessment-types';
import type { CoverageRequest } from '../domain/coverage/coverage-types';
import type { EvidenceSet } from '../domain/evidence/evidence-types';
import { AssessmentError, ConfigError } from '../errors';

/**
 * Builds the assessor a deployment runs, from configuration alone (docs/backends.md):
 * `assessor.backends` (env ASSESSOR=openaev,siem,embedded…) lists the backends in priority order;
 * a coverage label `assessor:<name>` picks the measured backends for that coverage instead. The
 * embedded engine, when listed, runs too and fills what the measured backends could not test;
 * results are merged by src/domain/assessment/combine.ts.
 */

export type BackendName = Config['assessor']['backends'][number];
const MEASURED: ReadonlyArray<Exclude<BackendName, 'embedded'>> = ['openaev', 'siem'];
const LABEL_PREFIX = 'assessor:';

export interface AssessorDeps {
  /**
   * Builds the embedded engine over the evidence: main.ts passes
   * `(evidence) => createEmbeddedAssessor(evidence, options)` from src/domain/scoring/embedded-engine.ts.
   */
  createEmbedded: (evidence: EvidenceSet) => Assessor;
  /** State stores; default: the configured state_file, else in memory. */
  stores?: { openaev?: KeyValueStore; siem?: KeyValueStore };
  /** Test seams for the HTTP clients. */
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Replaces the Elasticsearch query layer (Splunk, Sentinel…). */
  siemQuery?: SiemQuery;
}

export interface ConfiguredAssessor extends Assessor {
  /** Backends that can run in this deployment (configured list + complete opt-in sections), in order. */
  readonly available: BackendName[];
  /** Present when the SIEM backend is available: record executions reported by an API call. */
  recordExecutions?: SiemAssessor['recordExecutions'];
}

function buildOpenAev(config: Config, deps: AssessorDeps): Assessor {
  const { url, token } = config.openaev;
  if (!url) throw new ConfigError('OPENAEV_URL (openaev.url) is required when ASSESSOR includes openaev');
  if (!token) throw new ConfigError('OPENAEV_TOKEN (openaev.token) is required when ASSESSOR includes openaev');
  const http = createJsonHttp({
    baseUrl: url,
    headers: { authorization: `Bearer ${token}` },
    timeoutMs: config.openaev.timeout_ms,
    maxAttempts: config.openaev.max_attempts,
    backoffBaseMs: config.openaev.backoff_base_ms,
    backoffMaxMs: config.openaev.backoff_max_ms,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
  });
  const store = deps.stores?.openaev ?? (config.openaev.state_file ? createJsonFileStore(config.openaev.state_file) : createMemoryStore());
  return createOpenAevAssessor({
    client: createOpenAevClient({ http }),
    store,
    baseUrl: url,
    draft: config.openaev.draft,
    defaultPeriodicity: config.scheduler.default_periodicity,
    defaultDuration: config.scheduler.default_duration,
  });
}

function siemAuthHeader(config: Config): Record<string, string> {
  const { api_key: apiKey, username, password } = config.siem;
  if (apiKey) return { authorization: `ApiKey ${apiKey}` };
  if (username) return { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` };
  return {};
}

function buildSiem(config: Config, deps: AssessorDeps): SiemAssessor {
  const { url } = config.siem;
  let query = deps.siemQuery;
  if (!query) {
    if (!url) throw new ConfigError('SIEM_URL (siem.url) is required when ASSESSOR includes siem');
    const base = config.siem.kind === 'wazuh' ? WAZUH_PROFILE : ELASTIC_PROFILE;
    const profile = { ...base, alertsIndex: config.siem.alerts_index ?? base.alertsIndex, ...(config.siem.events_index ? { eventsIndex: config.siem.events_index } : {}) };
    const http = createJsonHttp({
      baseUrl: url,
      headers: siemAuthHeader(config),
      timeoutMs: config.siem.timeout_ms,
      maxAttempts: config.siem.max_attempts,
      backoffBaseMs: config.siem.backoff_base_ms,
      backoffMaxMs: config.siem.backoff_max_ms,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    });
    query = createElasticsearchSiemQuery({ http, profile });
  }
  const store = deps.stores?.siem ?? (config.siem.state_file ? createJsonFileStore(config.siem.state_file) : createMemoryStore());
  return createSiemAssessor({
    query,
    executions: createExecutionLog({ files: config.siem.execution_logs, store }),
    windowMinutes: config.siem.window_minutes,
    clockSkewSeconds: config.siem.clock_skew_seconds,
    lookbackDays: config.siem.lookback_days,
    loggedScore: config.siem.logged_score,
    ...(config.siem.external_url ? { externalUrl: config.siem.external_url } : {}),
  });
}

/** Backends named by `assessor:<name>` labels (case-insensitive); undefined when there are none. */
export function backendsFromLabels(labels: string[] | undefined): string[] | undefined {
  const picked = (labels ?? []).map((l) => l.trim().toLowerCase()).filter((l) => l.startsWith(LABEL_PREFIX)).map((l) => l.slice(LABEL_PREFIX.length).trim());
  return picked.length > 0 ? [...new Set(picked)] : undefined;
}

export function createAssessor(config: Config, evidence: EvidenceSet, deps: AssessorDeps): ConfiguredAssessor {
  const listed = config.assessor.backends;
  const measured = new Map<string, Assessor>();
  let siem: SiemAssessor | undefined;
  for (const name of MEASURED) {
    // Listed backends must be complete (ConfigError at startup); unlisted ones are built only when
    // their section is filled in, so a label can opt a coverage into them.
    const wanted = listed.includes(name);
    const complete = name === 'openaev' ? !!(config.openaev.url && config.openaev.token) : !!(config.siem.url || deps.siemQuery);
    if (!wanted && !complete) continue;
    if (name === 'openaev') measured.set(name, buildOpenAev(config, deps));
    else measured.set(name, (siem = buildSiem(config, deps)));
  }
  const embedded = listed.includes('embedded') ? deps.createEmbedded(evidence) : undefined;
  const available = [...listed, ...[...measured.keys()].filter((n) => !listed.includes(n as BackendName))] as BackendName[];

  /** The measured backends a request runs (labels may choose them) and what is said about the choice. */
  function chosenFor(request: CoverageRequest): { chosen: string[]; notes: string[] } {
    const notes: string[] = [];
    const fromLabels = backendsFromLabels(request.labels);
    let chosen = listed.filter((n) => n !== 'embedded') as string[];
    if (fromLabels) {
      chosen = fromLabels.filter((n) => measured.has(n));
      for (const n of fromLabels.filter((x) => x !== 'embedded' && !measured.has(x))) {
        notes.push(`label ${LABEL_PREFIX}${n} ignored: backend ${n} is not configured in this deployment`);
      }
      if (fromLabels.includes('embedded') && !embedded) notes.push(`label ${LABEL_PREFIX}embedded ignored: the embedded engine is not in ASSESSOR`);
    }
    return { chosen, notes };
  }

  async function assess(request: CoverageRequest, ctx: Parameters<Assessor['assess']>[1]): Promise<AssessmentResult> {
    const { chosen, notes } = chosenFor(request);
    const results: AssessmentResult[] = [];
    // One backend at a time, in priority order; a failure propagates (retried or dead-lettered by
    // the worker) instead of silently publishing a result without the measurement.
    for (const name of chosen) results.push(await (measured.get(name) as Assessor).assess(request, ctx));
    const estimate = embedded ? await embedded.assess(request, ctx) : undefined;
    if (results.length === 0 && !estimate) {
      throw new AssessmentError(`no assessment backend can run for coverage ${request.coverageId}${notes.length ? ` (${notes.join('; ')})` : ''}`);
    }
    const combined = combineAssessments({ measured: results, ...(estimate ? { estimate } : {}), aggregate: config.coverage.aggregate });
    return notes.length > 0 ? { ...combined, warnings: [...combined.warnings, ...notes] } : combined;
  }

  return {
    name: available.join('+'),
    available,
    assess,
    // Reusable only when the embedded engine alone answers: measured backends read the outside world.
    inputsVersion: (request) => (embedded && chosenFor(request).chosen.length === 0 ? embedded.inputsVersion?.(request) : undefined),
    ...(siem ? { recordExecutions: siem.recordExecutions } : {}),
  };
}
