import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process fake of the Elasticsearch `_search` API (Elastic Security, Wazuh indexer). It
 * parses the request body and evaluates the query clauses the SIEM backend sends — bool
 * filter/should/minimum_should_match, range (gte/lte), terms — over indexed documents, answering
 * with ES's response shape. Any other clause is a 400 `parsing_exception`, as ES would answer.
 */

export interface FakeDoc {
  index: string;
  id?: string;
  source: Record<string, unknown>;
}

export interface FakeSiemOptions {
  /** `ApiKey <key>` or `Basic <b64>` accepted; undefined = no auth required. */
  authorization?: string;
}

export interface FakeSiem {
  url: string;
  index(docs: FakeDoc[]): void;
  /** Bodies of every `_search`, with the index pattern, in order. */
  searches: Array<{ index: string; body: Record<string, unknown> }>;
  /** Answer the next `n` searches with this HTTP status. */
  failNext(n: number, status: number): void;
  /** Answer the next `n` searches with 200 but failed shards (partial results). */
  partialNext(n: number): void;
  close(): Promise<void>;
}

type Query = Record<string, unknown>;

function valuesAt(source: Record<string, unknown>, path: string): unknown[] {
  if (path in source) return ([] as unknown[]).concat(source[path]);
  let nodes: unknown[] = [source];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const n of nodes) {
      if (Array.isArray(n)) n.forEach((x) => x && typeof x === 'object' && next.push((x as Record<string, unknown>)[part]));
      else if (n && typeof n === 'object') next.push((n as Record<string, unknown>)[part]);
    }
    nodes = next.flat().filter((x) => x !== undefined);
  }
  return nodes.flat();
}

class ParsingError extends Error {}

function matches(source: Record<string, unknown>, query: Query): boolean {
  const [kind, spec] = Object.entries(query)[0] ?? [];
  if (kind === 'bool') {
    const b = spec as { filter?: Query[]; must?: Query[]; should?: Query[]; minimum_should_match?: number };
    for (const key of Object.keys(b)) if (!['filter', 'must', 'should', 'minimum_should_match'].includes(key)) throw new ParsingError(`[bool] unknown field [${key}]`);
    const all = [...(b.filter ?? []), ...(b.must ?? [])];
    if (!all.every((q) => matches(source, q))) return false;
    if (b.should && b.should.length > 0) {
      const min = b.minimum_should_match ?? (all.length === 0 ? 1 : 0);
      return b.should.filter((q) => matches(source, q)).length >= min;
    }
    return true;
  }
  if (kind === 'range') {
    const [field, r] = Object.entries(spec as Record<string, { gte?: string; lte?: string; format?: string }>)[0];
    return valuesAt(source, field).some((v) => {
      const t = Date.parse(String(v));
      if (Number.isNaN(t)) return false;
      if (r.gte !== undefined && t < Date.parse(r.gte)) return false;
      if (r.lte !== undefined && t > Date.parse(r.lte)) return false;
      return true;
    });
  }
  if (kind === 'terms') {
    const [field, wanted] = Object.entries(spec as Record<string, unknown[]>)[0];
    if (!Array.isArray(wanted)) throw new ParsingError(`[terms] query does not support [${field}] without an array`);
    return valuesAt(source, field).some((v) => wanted.includes(v));
  }
  throw new ParsingError(`unknown query [${kind}]`);
}

function indexMatches(pattern: string, index: string): boolean {
  return pattern.split(',').some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(index));
}

export async function startFakeSiem(options: FakeSiemOptions = {}): Promise<FakeSiem> {
  const docs: Array<Required<FakeDoc>> = [];
  const searches: FakeSiem['searches'] = [];
  let failures: Array<number> = [];
  let partial = 0;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/([^/]+)\/_search$/.exec(decodeURIComponent((req.url ?? '').split('?')[0]));
    if (!m || req.method !== 'POST') return send(res, 404, { error: { type: 'no_handler' }, status: 404 });
    if (options.authorization && req.headers.authorization !== options.authorization) {
      return send(res, 401, { error: { type: 'security_exception', reason: 'unable to authenticate' }, status: 401 });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(res, 400, { error: { type: 'parse_exception', reason: 'request body is required' }, status: 400 });
    }
    searches.push({ index: m[1], body });
    const failure = failures.shift();
    if (failure) return send(res, failure, { error: { type: 'unavailable', reason: 'injected failure' }, status: failure });
    try {
      const hits = docs.filter((d) => indexMatches(m[1], d.index)).filter((d) => matches(d.source, (body.query as Query) ?? { bool: {} }));
      const sort = (body.sort as Array<Record<string, { order: string }>> | undefined)?.[0];
      if (sort) {
        const [field, { order }] = Object.entries(sort)[0];
        hits.sort((a, b) => String(valuesAt(a.source, field)[0]).localeCompare(String(valuesAt(b.source, field)[0])) * (order === 'desc' ? -1 : 1));
      }
      const size = typeof body.size === 'number' ? body.size : 10;
      const shards = partial > 0 ? { total: 3, successful: 2, skipped: 0, failed: 1, failures: [{ reason: { reason: 'injected shard failure' } }] } : { total: 1, successful: 1, skipped: 0, failed: 0 };
      if (partial > 0) partial--;
      send(res, 200, {
        took: 1,
        timed_out: false,
        _shards: shards,
        hits: { total: { value: hits.length, relation: 'eq' }, max_score: null, hits: hits.slice(0, size).map((d) => ({ _index: d.index, _id: d.id, _score: null, _source: d.source })) },
      });
    } catch (err) {
      if (err instanceof ParsingError) return send(res, 400, { error: { type: 'parsing_exception', reason: err.message }, status: 400 });
      throw err;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: { type: 'exception', reason: String(err) }, status: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let counter = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    searches,
    index: (list) => list.forEach((d) => docs.push({ index: d.index, id: d.id ?? `doc-${++counter}`, source: d.source })),
    failNext: (n, status) => {
      failures = failures.concat(Array.from({ length: n }, () => status));
    },
    partialNext: (n) => {
      partial += n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
