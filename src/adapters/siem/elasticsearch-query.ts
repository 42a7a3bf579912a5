import { BackendError } from '../../errors';
import { HttpFailure, type JsonHttp } from '../http/json-http';
import type { SiemHit, SiemMatches, SiemQuery, SiemWindow } from './siem-types';

/**
 * `SiemQuery` over the Elasticsearch `_search` API, for Elastic Security and the Wazuh indexer
 * (OpenSearch answers the same request shape). One bool query per question: a `range` on the
 * time field, a `terms` on any technique field, and a `terms` on the host field when known.
 */

export interface EsProfile {
  name: string;
  alertsIndex: string;
  alertTimeField: string;
  /** Any of these fields holding one of the ids makes an alert match. */
  alertTechniqueFields: string[];
  alertHostField: string;
  alertRuleField: string;
  eventsIndex?: string;
  eventTimeField: string;
  eventHostField: string;
}

export const ELASTIC_PROFILE: EsProfile = {
  name: 'elastic',
  alertsIndex: '.alerts-security.alerts-*',
  alertTimeField: '@timestamp',
  alertTechniqueFields: [
    'kibana.alert.rule.threat.technique.id',
    'kibana.alert.rule.threat.technique.subtechnique.id',
    'threat.technique.id',
    'threat.technique.subtechnique.id',
  ],
  alertHostField: 'host.name',
  alertRuleField: 'kibana.alert.rule.name',
  eventTimeField: '@timestamp',
  eventHostField: 'host.name',
};

export const WAZUH_PROFILE: EsProfile = {
  name: 'wazuh',
  alertsIndex: 'wazuh-alerts-*',
  alertTimeField: 'timestamp',
  alertTechniqueFields: ['rule.mitre.id'],
  alertHostField: 'agent.name',
  alertRuleField: 'rule.description',
  eventTimeField: 'timestamp',
  eventHostField: 'agent.name',
};

const SAMPLE_SIZE = 5;

interface EsSearchResponse {
  timed_out?: boolean;
  _shards?: { total?: number; successful?: number; failed?: number; failures?: Array<{ reason?: { reason?: string } }> };
  hits?: { total?: number | { value: number; relation?: string }; hits?: Array<{ _id: string; _index?: string; _source?: Record<string, unknown> }> };
}

function getPath(source: Record<string, unknown> | undefined, path: string): unknown {
  if (!source) return undefined;
  if (path in source) return source[path]; // flattened keys ("kibana.alert.rule.name")
  let node: unknown = source;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The `_search` body for one question; exported so tests and docs show the exact shape. */
export function buildSearchBody(timeField: string, window: SiemWindow, anyOf: Array<{ fields: string[]; values: string[] }>, sourceFields: string[]): Record<string, unknown> {
  const filter: unknown[] = [{ range: { [timeField]: { gte: window.from.toISOString(), lte: window.to.toISOString(), format: 'strict_date_optional_time' } } }];
  for (const clause of anyOf) {
    if (clause.values.length === 0) continue;
    filter.push({ bool: { should: clause.fields.map((f) => ({ terms: { [f]: clause.values } })), minimum_should_match: 1 } });
  }
  return { size: SAMPLE_SIZE, track_total_hits: true, sort: [{ [timeField]: { order: 'asc' } }], _source: sourceFields, query: { bool: { filter } } };
}

export interface ElasticsearchQueryOptions {
  http: JsonHttp;
  profile: EsProfile;
}

export function createElasticsearchSiemQuery({ http, profile }: ElasticsearchQueryOptions): SiemQuery {
  async function search(index: string, body: Record<string, unknown>, what: string, signal?: AbortSignal): Promise<EsSearchResponse> {
    try {
      const res = await http.request<EsSearchResponse>('POST', `/${encodeURIComponent(index).replace(/%2C/g, ',').replace(/%2A/g, '*')}/_search`, body, { signal });
      const data = res.body ?? {};
      const failed = data._shards?.failed ?? 0;
      if (data.timed_out || failed > 0) {
        // Partial answers would under-count detections: treat them as a transient failure.
        const reason = data._shards?.failures?.[0]?.reason?.reason;
        throw new BackendError('SIEM_UNREACHABLE', `${profile.name}: partial results for ${what} (${data.timed_out ? 'timed out' : `${failed} of ${data._shards?.total ?? '?'} shards failed`}${reason ? `: ${reason}` : ''}); retried later`, true);
      }
      return data;
    } catch (err) {
      if (err instanceof BackendError) throw err;
      if (err instanceof HttpFailure) {
        if (err.kind === 'unreachable') throw new BackendError('SIEM_UNREACHABLE', `${profile.name} unreachable while searching ${what}: ${err.message}`, true, { cause: err });
        if (err.kind === 'auth') throw new BackendError('SIEM_AUTH', `${profile.name} refused the credentials while searching ${what} (check SIEM_API_KEY or SIEM_USERNAME/SIEM_PASSWORD and read rights on ${index}): ${err.message}`, false, { cause: err });
        throw new BackendError('SIEM_QUERY_FAILED', `${profile.name} rejected the search of ${what}: ${err.message}`, false, { cause: err });
      }
      throw new BackendError('SIEM_UNREACHABLE', `${profile.name} search of ${what} failed: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
    }
  }

  function toMatches(data: EsSearchResponse, timeField: string, hostField: string, ruleField?: string): SiemMatches {
    const total = typeof data.hits?.total === 'number' ? data.hits.total : (data.hits?.total?.value ?? data.hits?.hits?.length ?? 0);
    const samples: SiemHit[] = (data.hits?.hits ?? []).map((h) => {
      const hit: SiemHit = { id: h._id };
      const ts = getPath(h._source, timeField);
      const host = getPath(h._source, hostField);
      const rule = ruleField ? getPath(h._source, ruleField) : undefined;
      if (typeof ts === 'string') hit.timestamp = ts;
      if (typeof host === 'string') hit.host = host;
      if (typeof rule === 'string') hit.rule = rule;
      return hit;
    });
    return { total, samples };
  }

  return {
    name: profile.name,
    async alertsFor(techniques, window, signal) {
      const ids = [...new Set(techniques.map((t) => t.toUpperCase()))];
      const body = buildSearchBody(
        profile.alertTimeField,
        window,
        [
          { fields: profile.alertTechniqueFields, values: ids },
          { fields: [profile.alertHostField], values: window.hosts },
        ],
        [profile.alertTimeField, profile.alertHostField, profile.alertRuleField, ...profile.alertTechniqueFields],
      );
      return toMatches(await search(profile.alertsIndex, body, `alerts for ${ids.join(', ')}`, signal), profile.alertTimeField, profile.alertHostField, profile.alertRuleField);
    },
    async eventsFor(_techniques, window, signal) {
      if (!profile.eventsIndex || window.hosts.length === 0) return undefined;
      const body = buildSearchBody(profile.eventTimeField, window, [{ fields: [profile.eventHostField], values: window.hosts }], [profile.eventTimeField, profile.eventHostField]);
      return toMatches(await search(profile.eventsIndex, body, `events of ${window.hosts.join(', ')}`, signal), profile.eventTimeField, profile.eventHostField);
    },
  };
}
