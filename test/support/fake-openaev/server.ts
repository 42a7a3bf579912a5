import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process fake of the OpenAEV REST endpoints the backend uses, built from their shapes in
 * OpenAEV-Platform/openaev (docs/backends.md lists them): `Authorization: Bearer`, the STIX
 * process-bundle callback (bundle as a JSON string, empty 200 for a duplicate/obsolete bundle,
 * 500 when the coverage lacks the OpenCTI extension's created_at), scenario recurrence, the
 * scenario's simulations (ExerciseSimple) and results by attack pattern.
 */

export interface FakeExpectation {
  type: 'PREVENTION' | 'DETECTION' | 'VULNERABILITY' | 'HUMAN_RESPONSE';
  success?: number;
  partial?: number;
  pending?: number;
  failed?: number;
}

export interface FakeInjectResult {
  /** ATT&CK ids of the inject's contract (one inject may serve several). */
  techniques: string[];
  injectId?: string;
  title?: string;
  expectations: FakeExpectation[];
}

export interface FakeScenario {
  id: string;
  coverageId: string;
  name: string;
  techniques: string[];
  periodicity?: string;
  recurrence: { scenario_recurrence: string | null; scenario_recurrence_start: string | null; scenario_recurrence_end: string | null };
  recurrenceUpdates: number;
  lastModified: string;
  lastMd5: string;
}

export interface FakeOpenAev {
  url: string;
  token: string;
  scenarios: Map<string, FakeScenario>;
  /** Every request: method, path. */
  requests: Array<{ method: string; path: string }>;
  /** Bundles accepted by process-bundle (parsed). */
  bundles: Array<Record<string, unknown>>;
  scenarioOf(coverageId: string): FakeScenario | undefined;
  addSimulation(scenarioId: string, sim: { status: string; start?: string; name?: string; injects?: FakeInjectResult[] }): string;
  deleteScenario(scenarioId: string): void;
  /** Answer the next `n` requests whose path contains `pathPart` with this status. */
  failNext(n: number, status: number, pathPart?: string): void;
  close(): Promise<void>;
}

const ext = 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba';
const mitreExt = 'extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b';

export async function startFakeOpenAev(token = 'test-token'): Promise<FakeOpenAev> {
  const scenarios = new Map<string, FakeScenario>();
  const byCoverage = new Map<string, string>();
  const simulations = new Map<string, Array<{ exercise_id: string; exercise_name: string; exercise_status: string; exercise_start_date?: string; injects: FakeInjectResult[] }>>();
  const patterns = new Map<string, string>(); // uuid → ATT&CK id
  const patternIds = new Map<string, string>(); // ATT&CK id → uuid
  const requests: FakeOpenAev['requests'] = [];
  const bundles: FakeOpenAev['bundles'] = [];
  let failures: Array<{ status: number; prefix: string }> = [];

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const patternUuid = (externalId: string) => {
    let id = patternIds.get(externalId);
    if (!id) {
      id = randomUUID();
      patternIds.set(externalId, id);
      patterns.set(id, externalId);
    }
    return id;
  };

  function processBundle(raw: string, res: ServerResponse): void {
    const event = JSON.parse(raw) as { internal?: { work_id?: unknown }; event?: { stix_objects?: unknown } };
    if (typeof event.internal?.work_id !== 'string' || typeof event.event?.stix_objects !== 'string') return send(res, 400, { message: 'invalid CTI event' });
    const bundle = JSON.parse(event.event.stix_objects) as { objects?: Array<Record<string, unknown>> };
    const coverages = (bundle.objects ?? []).filter((o) => o.type === 'security-coverage');
    if (coverages.length !== 1) return send(res, 200); // BundleValidationError: silent 200
    const cov = coverages[0];
    const createdAt = (cov.extensions as Record<string, Record<string, unknown>> | undefined)?.[ext]?.created_at;
    if (typeof createdAt !== 'string' || typeof cov.modified !== 'string') return send(res, 500, { message: 'NullPointerException' });
    const md5 = createHash('md5').update(event.event.stix_objects).digest('hex');
    const existingId = byCoverage.get(String(cov.id));
    const existing = existingId ? scenarios.get(existingId) : undefined;
    if (existing && existing.lastMd5 === md5) return send(res, 200); // duplicate
    if (existing && !(cov.modified > existing.lastModified)) return send(res, 200); // obsolete
    bundles.push(bundle as Record<string, unknown>);
    const techniques = (bundle.objects ?? [])
      .filter((o) => o.type === 'attack-pattern')
      .map((o) => String((o.extensions as Record<string, Record<string, unknown>> | undefined)?.[mitreExt]?.id ?? o.name));
    const scenario: FakeScenario = existing ?? {
      id: randomUUID(),
      coverageId: String(cov.id),
      name: String(cov.name),
      techniques: [],
      recurrence: { scenario_recurrence: null, scenario_recurrence_start: null, scenario_recurrence_end: null },
      recurrenceUpdates: 0,
      lastModified: '',
      lastMd5: '',
    };
    Object.assign(scenario, { name: String(cov.name), techniques, lastModified: cov.modified, lastMd5: md5, periodicity: cov.periodicity as string | undefined });
    // OpenAEV sets a recurrence from the raw periodicity only when the scenario has none.
    if (!scenario.recurrence.scenario_recurrence && typeof cov.periodicity === 'string') {
      scenario.recurrence = { scenario_recurrence: cov.periodicity, scenario_recurrence_start: new Date(Date.now() + 120_000).toISOString(), scenario_recurrence_end: null };
    }
    scenarios.set(scenario.id, scenario);
    byCoverage.set(scenario.coverageId, scenario.id);
    if (!simulations.has(scenario.id)) simulations.set(scenario.id, []);
    send(res, 200, { scenarioId: scenario.id, importSummary: techniques.length ? 'Scenario with Injects created successfully' : 'The current scenario does not contain injects.' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0];
    const method = req.method ?? 'GET';
    requests.push({ method, path });
    const auth = req.headers.authorization ?? '';
    if (!auth.toLowerCase().startsWith('bearer ') || auth.slice(7) !== token) return send(res, 401, { error: 'Unauthorized', status: 401 });
    const failure = failures.find((f) => path.includes(f.prefix));
    if (failure) {
      failures.splice(failures.indexOf(failure), 1);
      return send(res, failure.status, { message: 'injected failure' });
    }
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/api/stix/process-bundle') return processBundle(raw, res);
    if (method === 'PUT' && (m = /^\/api\/scenarios\/([^/]+)\/recurrence$/.exec(path))) {
      const s = scenarios.get(m[1]);
      if (!s) return send(res, 404, { message: 'Element not found' });
      s.recurrence = JSON.parse(raw) as FakeScenario['recurrence'];
      s.recurrenceUpdates++;
      return send(res, 200, { scenario_id: s.id, scenario_name: s.name, ...s.recurrence });
    }
    if (method === 'GET' && (m = /^\/api\/scenarios\/([^/]+)\/exercises$/.exec(path))) {
      const list = scenarios.has(m[1]) ? simulations.get(m[1]) : undefined;
      if (!list) return send(res, 404, { message: 'Element not found' });
      return send(res, 200, list.map(({ injects: _i, ...simple }) => ({ ...simple, exercise_updated_at: simple.exercise_start_date, exercise_tags: [], exercise_global_score: [], exercise_targets: [] })));
    }
    if (method === 'GET' && (m = /^\/api\/exercises\/([^/]+)\/injects\/results-by-attack-patterns$/.exec(path))) {
      const sim = [...simulations.values()].flat().find((s) => s.exercise_id === m![1]);
      if (!sim) return send(res, 404, { message: 'Element not found' });
      const byPattern = new Map<string, Array<{ inject_id: string; inject_title?: string; results: unknown[] }>>();
      for (const inj of sim.injects) {
        const results = inj.expectations.map((e) => ({
          type: e.type,
          avgResult: 'UNKNOWN',
          distribution: [
            { id: 'SUCCESS', label: 'Success', value: e.success ?? 0 },
            { id: 'PENDING', label: 'Pending', value: e.pending ?? 0 },
            { id: 'PARTIAL', label: 'Partial', value: e.partial ?? 0 },
            { id: 'FAILED', label: 'Failed', value: e.failed ?? 0 },
          ],
        }));
        for (const t of inj.techniques) {
          const list = byPattern.get(t) ?? [];
          list.push({ inject_id: inj.injectId ?? randomUUID(), ...(inj.title ? { inject_title: inj.title } : {}), results });
          byPattern.set(t, list);
        }
      }
      return send(res, 200, [...byPattern.entries()].map(([t, list]) => ({ inject_attack_pattern: patternUuid(t), inject_expectation_results: list })));
    }
    if (method === 'GET' && (m = /^\/api\/attack_patterns\/([^/]+)$/.exec(path))) {
      const ext = patterns.get(m[1]);
      if (!ext) return send(res, 404, { message: 'Element not found' });
      return send(res, 200, { attack_pattern_id: m[1], attack_pattern_external_id: ext, attack_pattern_name: `Pattern ${ext}` });
    }
    send(res, 404, { message: `no route ${method} ${path}` });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    scenarios,
    requests,
    bundles,
    scenarioOf: (coverageId) => scenarios.get(byCoverage.get(coverageId) ?? ''),
    addSimulation(scenarioId, sim) {
      const id = randomUUID();
      const list = simulations.get(scenarioId);
      if (!list) throw new Error(`no scenario ${scenarioId}`);
      for (const inj of sim.injects ?? []) inj.techniques.forEach(patternUuid);
      list.push({ exercise_id: id, exercise_name: sim.name ?? `Simulation ${list.length + 1}`, exercise_status: sim.status, ...(sim.start ? { exercise_start_date: sim.start } : {}), injects: sim.injects ?? [] });
      return id;
    },
    deleteScenario(scenarioId) {
      const s = scenarios.get(scenarioId);
      if (s) byCoverage.delete(s.coverageId);
      scenarios.delete(scenarioId);
      simulations.delete(scenarioId);
    },
    failNext(n, status, pathPart = '/') {
      failures = failures.concat(Array.from({ length: n }, () => ({ status, prefix: pathPart })));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
