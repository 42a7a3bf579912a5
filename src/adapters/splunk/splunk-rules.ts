import { SplunkCollectionSchema, SplunkJobSchema, SplunkSavedSearchSchema, type SplunkJob, type SplunkSavedSearch } from '../../../schemas/rule-sources';
import { normaliseTechniqueId } from '../../domain/coverage/attack-ids';
import type { DetectionRule, LoadIssue } from '../../domain/evidence/evidence-types';
import { severityFrom } from '../evidence/rule-common';
import { describeSourceFailure, isoOrUndefined, skippedIssue, type PagingLimits, type RuleSource, type SourceInventory } from '../evidence/rule-source';
import { HttpFailure, type JsonHttp } from '../http/json-http';

/**
 * Splunk (Enterprise Security): saved searches over REST, `GET /servicesNS/-/<app>/saved/searches`
 * with `output_mode=json`, paged by `count` / `offset` (token auth). A rule is a saved search whose
 * `action.correlationsearch.annotations` name MITRE ATT&CK techniques; with `correlationOnly` only
 * ES correlation searches (`action.correlationsearch.enabled`) count. It runs when it is not
 * `disabled` and is scheduled. Health: the latest job of each scheduled search in
 * `GET /services/search/jobs` (one paged listing, not one call per search); a latest run with
 * `isFailed` makes the rule failing. Data sources are the data models, sourcetypes and indexes its
 * search names.
 */

export interface SplunkSourceOptions extends PagingLimits {
  http: JsonHttp;
  url: string;
  /** App namespace, `-` for every app. */
  app: string;
  correlationOnly: boolean;
  /** Read the search jobs for the last run's status (default true). */
  checkJobs: boolean;
}

const truthy = (v: unknown): boolean => v === true || v === 1 || (typeof v === 'string' && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase()));

/** `action.correlationsearch.annotations`: a JSON object (as text) with `mitre_attack: [...]`. */
export function splunkAnnotatedTechniques(value: unknown): string[] {
  let annotations: unknown = value;
  if (typeof value === 'string') {
    try {
      annotations = JSON.parse(value);
    } catch {
      return [];
    }
  }
  const ids = (annotations as { mitre_attack?: unknown } | null)?.mitre_attack;
  if (!Array.isArray(ids)) return [];
  return [...new Set(ids.map((id) => normaliseTechniqueId(String(id))).filter((id): id is string => id !== undefined))];
}

/** Data models (`datamodel=Endpoint.Processes`, `from datamodel:"X"`), sourcetypes and indexes named in the SPL. */
export function splunkSearchDataSources(search: string): string[] {
  const keys: string[] = [];
  for (const m of search.matchAll(/\bdatamodel\s*[=:]\s*"?([A-Za-z_][\w.]*)"?/g)) keys.push(m[1]);
  for (const m of search.matchAll(/\b(?:sourcetype|index)\s*=\s*"?([\w:\-.*]+)"?/g)) keys.push(m[1]);
  return [...new Set(keys.map((k) => k.toLowerCase()).filter((k) => k !== '' && k !== '*'))];
}

/** Risk score from `action.risk.param._risk_score` or the `_risk` JSON of ES 7+. */
function riskScoreOf(content: Record<string, unknown>): number | undefined {
  const direct = Number(content['action.risk.param._risk_score']);
  if (Number.isFinite(direct) && content['action.risk.param._risk_score'] !== undefined) return Math.min(100, Math.max(0, direct));
  const risk = content['action.risk.param._risk'];
  if (typeof risk !== 'string') return undefined;
  try {
    const scores = (JSON.parse(risk) as Array<{ risk_score?: unknown }>).map((r) => Number(r.risk_score)).filter(Number.isFinite);
    return scores.length > 0 ? Math.min(100, Math.max(0, ...scores)) : undefined;
  } catch {
    return undefined;
  }
}

/** The first error text of a job (messages come as [{type, text}] or {error: [...]}). */
function jobMessage(messages: unknown): string | undefined {
  if (Array.isArray(messages)) {
    const m = messages.find((x) => /fatal|error/i.test(String((x as { type?: unknown })?.type ?? ''))) as { text?: unknown } | undefined;
    return m?.text !== undefined ? String(m.text) : undefined;
  }
  if (messages && typeof messages === 'object') {
    for (const [type, texts] of Object.entries(messages)) if (/fatal|error/i.test(type) && Array.isArray(texts) && texts.length > 0) return String(texts[0]);
  }
  return undefined;
}

export interface LastRun {
  at?: string;
  failed: boolean;
  message?: string;
}

export function splunkSearchToDetection(search: SplunkSavedSearch, lastRun: LastRun | undefined, correlationOnly: boolean): DetectionRule | 'no-technique' | 'not-correlation' {
  const c = search.content;
  const correlation = truthy(c['action.correlationsearch.enabled']);
  if (correlationOnly && !correlation) return 'not-correlation';
  const techniques = splunkAnnotatedTechniques(c['action.correlationsearch.annotations']);
  if (techniques.length === 0) return 'no-technique';
  const app = search.acl?.app ?? '-';
  const riskScore = riskScoreOf(c);
  const severity = severityFrom(typeof c['action.notable.param.severity'] === 'string' ? c['action.notable.param.severity'] : undefined);
  const label = typeof c['action.correlationsearch.label'] === 'string' && c['action.correlationsearch.label'].trim() !== '' ? c['action.correlationsearch.label'].trim() : search.name;
  // A search that is not scheduled never runs, whatever `disabled` says.
  const enabled = !truthy(c.disabled) && truthy(c.is_scheduled);
  const hasDrilldown = typeof c['action.notable.param.drilldown_search'] === 'string' && c['action.notable.param.drilldown_search'].trim() !== '';
  return {
    id: `splunk:${app}/${search.name}`,
    title: label,
    format: 'splunk',
    path: `splunk:${app}/${search.name}`,
    techniques,
    maturity: correlation ? 'stable' : 'test',
    enabled,
    ...(severity ? { severity } : {}),
    ...(riskScore !== undefined ? { riskScore } : {}),
    dataSources: splunkSearchDataSources(typeof c.search === 'string' ? c.search : ''),
    hasEnrichment: riskScore !== undefined || hasDrilldown || (typeof c['action.notable.param.next_steps'] === 'string' && c['action.notable.param.next_steps'] !== ''),
    ...(lastRun?.failed ? { failing: { ...(lastRun.at ? { since: lastRun.at } : {}), ...(lastRun.message ? { message: lastRun.message.slice(0, 300) } : {}) } } : {}),
  };
}

export function createSplunkSource(options: SplunkSourceOptions): RuleSource {
  const target = `${options.url} app ${options.app}`;

  async function* pages(path: string, query: Record<string, string>, what: string, signal?: AbortSignal): AsyncGenerator<unknown[]> {
    let offset = 0;
    let listed = 0;
    for (;;) {
      const res = await options.http.request<unknown>('GET', path, undefined, {
        query: { output_mode: 'json', count: String(options.pageSize), offset: String(offset), ...query },
        ...(signal ? { signal } : {}),
      });
      const parsed = SplunkCollectionSchema.safeParse(res.body);
      if (!parsed.success) throw new HttpFailure('rejected', `splunk ${target}: the ${what} answer is not a Splunk collection (is SPLUNK_URL the management port, e.g. https://splunk:8089?)`, res.status, 1);
      yield parsed.data.entry;
      listed += parsed.data.entry.length;
      offset += parsed.data.entry.length;
      const total = parsed.data.paging?.total ?? offset;
      if (parsed.data.entry.length === 0 || offset >= total || listed >= options.maxRules) return;
    }
  }

  /** Latest job per saved-search name; failures to read the jobs are an issue, not a failed refresh. */
  async function lastRuns(signal: AbortSignal | undefined, issues: LoadIssue[]): Promise<Map<string, LastRun>> {
    const latest = new Map<string, { t: number; run: LastRun }>();
    try {
      for await (const entries of pages('/services/search/jobs', { search: 'isSavedSearch=1' }, 'search/jobs', signal)) {
        for (const entry of entries) {
          const job = SplunkJobSchema.safeParse(entry);
          if (!job.success || !job.data.content.label) continue;
          const j: SplunkJob = job.data;
          const at = isoOrUndefined(j.published ?? j.updated);
          const t = at ? Date.parse(at) : 0;
          const prev = latest.get(j.content.label as string);
          if (prev && prev.t > t) continue;
          const failed = truthy(j.content.isFailed) || String(j.content.dispatchState ?? '').toUpperCase() === 'FAILED';
          const message = failed ? jobMessage(j.content.messages) : undefined;
          latest.set(j.content.label as string, { t, run: { failed, ...(at ? { at } : {}), ...(message ? { message } : {}) } });
        }
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      issues.push({ path: `splunk ${target}`, reason: `search jobs not readable (${describeSourceFailure(err).message}): failing searches cannot be told apart, every enabled search counts` });
    }
    return new Map([...latest].map(([k, v]) => [k, v.run]));
  }

  return {
    name: 'splunk',
    target,
    async fetch(signal) {
      const out: SourceInventory = { rules: [], issues: [], listed: 0 };
      const searches: SplunkSavedSearch[] = [];
      const malformed: string[] = [];
      for await (const entries of pages(`/servicesNS/-/${encodeURIComponent(options.app)}/saved/searches`, {}, 'saved/searches', signal)) {
        for (const entry of entries) {
          out.listed += 1;
          const parsed = SplunkSavedSearchSchema.safeParse(entry);
          if (parsed.success) searches.push(parsed.data);
          else malformed.push(String((entry as { name?: unknown })?.name ?? '?'));
        }
      }
      if (out.listed >= options.maxRules) out.issues.push({ path: `splunk ${target}`, reason: `more than ${options.maxRules} saved searches (LIVE_RULES_MAX_RULES): the rest is not read` });
      const runs = options.checkJobs ? await lastRuns(signal, out.issues) : new Map<string, LastRun>();
      const noTechnique: string[] = [];
      for (const search of searches) {
        const mapped = splunkSearchToDetection(search, runs.get(search.name), options.correlationOnly);
        if (mapped === 'no-technique') {
          if (!options.correlationOnly || truthy(search.content['action.correlationsearch.enabled'])) noTechnique.push(search.name);
        } else if (mapped !== 'not-correlation') out.rules.push(mapped);
      }
      // Plain reports and alerts without annotations are not rules: only correlation searches are reported.
      out.issues.push(
        ...skippedIssue('splunk', target, noTechnique, 'carry no mitre_attack annotation (action.correlationsearch.annotations)'),
        ...skippedIssue('splunk', target, malformed, 'are malformed'),
      );
      return out;
    },
    close: async () => undefined,
  };
}
