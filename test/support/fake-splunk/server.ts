import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { walkRoot } from '../../../src/adapters/evidence/safe-files';
import { credentialOf, slice, startFakeApi, type FakeApi, type FakeApiOptions, type FakeRequest } from '../fake-rule-api';

/**
 * Stand-in of the Splunk REST API (management port), after the REST reference: collections answer
 * `{ links, origin, updated, generator, entry[], paging: { total, perPage, offset }, messages }` with
 * `output_mode=json`, paged by `count` (default 30; 0 = all) and `offset`. Serves
 * `/servicesNS/<owner>/<app>/saved/searches` (entries with `name`, `acl.app`, `content` holding the
 * savedsearches.conf settings) and `/services/search/jobs` (filtered by `search=isSavedSearch=1`).
 * `Authorization: Bearer <token>` or 401 with Splunk's `messages` body.
 */

export interface SplunkEntry {
  name: string;
  acl: { app: string; owner: string };
  content: Record<string, unknown>;
  published?: string;
}

export interface FakeSplunkOptions extends FakeApiOptions {
  token: string;
  searches: SplunkEntry[];
  jobs?: SplunkEntry[];
}

export interface FakeSplunk extends FakeApi {
  searches: SplunkEntry[];
  jobs: SplunkEntry[];
}

function collection(req: FakeRequest, all: readonly SplunkEntry[]) {
  const count = Number(req.query.get('count') ?? 30);
  const offset = Number(req.query.get('offset') ?? 0);
  const entry = count === 0 ? all.slice(offset) : slice(all, offset, count);
  return { status: 200, body: { links: {}, origin: 'https://splunk:8089', updated: new Date(0).toISOString(), generator: { build: 'fake', version: '9.3.0' }, entry, paging: { total: all.length, perPage: count, offset }, messages: [] } };
}

export async function startFakeSplunk(options: FakeSplunkOptions): Promise<FakeSplunk> {
  const searches = options.searches;
  const jobs = options.jobs ?? [];
  const api = await startFakeApi((req) => {
    if (credentialOf(req) !== `Bearer ${options.token}`) return { status: 401, body: { messages: [{ type: 'WARN', text: 'call not properly authenticated' }] } };
    if (req.query.get('output_mode') !== 'json') return { status: 400, body: { messages: [{ type: 'ERROR', text: 'this stand-in only speaks output_mode=json' }] } };
    const saved = /^\/servicesNS\/([^/]+)\/([^/]+)\/saved\/searches$/.exec(req.path);
    if (saved) {
      const app = decodeURIComponent(saved[2]);
      return collection(req, app === '-' ? searches : searches.filter((s) => s.acl.app === app));
    }
    if (req.path === '/services/search/jobs') {
      const onlySaved = req.query.get('search') === 'isSavedSearch=1';
      return collection(req, onlySaved ? jobs.filter((j) => j.content.isSavedSearch === true) : jobs);
    }
    return { status: 404, body: { messages: [{ type: 'ERROR', text: `Not Found: ${req.path}` }] } };
  }, options);
  return Object.assign(api, { searches, jobs });
}

/**
 * splunk/security_content detections (../shared/samples/splunk) as Enterprise Security deploys them:
 * correlation searches "ESCU - <name> - Rule" with the ATT&CK ids in `action.correlationsearch.annotations`.
 */
export async function splunkSearchesFromDetections(dir: string): Promise<SplunkEntry[]> {
  const { files } = await walkRoot(dir, (n) => /\.ya?ml$/.test(n));
  return files.map((f) => {
    const d = loadYaml(readFileSync(f.absolute, 'utf8')) as { name: string; search?: string; tags?: { mitre_attack_id?: string[]; analytic_story?: string[]; risk_score?: number } };
    const name = `ESCU - ${d.name} - Rule`;
    return {
      name,
      acl: { app: 'DA-ESS-ContentUpdate', owner: 'nobody' },
      content: {
        search: d.search ?? '',
        disabled: false,
        is_scheduled: true,
        cron_schedule: '0 * * * *',
        'action.correlationsearch.enabled': '1',
        'action.correlationsearch.label': name,
        'action.correlationsearch.annotations': JSON.stringify({ mitre_attack: d.tags?.mitre_attack_id ?? [], analytic_story: d.tags?.analytic_story ?? [] }),
        'action.notable.param.severity': 'medium',
        ...(d.tags?.risk_score !== undefined ? { 'action.risk.param._risk_score': String(d.tags.risk_score) } : {}),
      },
    };
  });
}

/** A finished (or failed) scheduled run of `search`, as a search/jobs entry. */
export function splunkJob(search: string, published: string, failed: boolean, message = 'Error in \'SearchParser\': The search specifies a macro that cannot be found'): SplunkEntry {
  return {
    name: `scheduler__nobody__${published}`,
    acl: { app: 'DA-ESS-ContentUpdate', owner: 'nobody' },
    published,
    content: { label: search, isSavedSearch: true, isFailed: failed, dispatchState: failed ? 'FAILED' : 'DONE', messages: failed ? [{ type: 'FATAL', text: message }] : [] },
  };
}
