import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGraphQLClient, type CallGate } from '../../src/adapters/opencti/graphql-client';

/**
 * The GraphQL client's transport (graphql-request over undici) against a plain HTTP server that
 * records what arrives and answers what each test sets: the request it sends (token, document,
 * extra headers), keep-alive and close(), the size cap, and the answers graphql-request cannot read.
 */

const TOKEN = 'tok-7d2f-SECRET-transport';
const QUERY = 'query CoverageProbe($id: String) { __typename }';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
}

describe('GraphQL client transport', () => {
  let server: http.Server;
  let url: string;
  let seen: Seen[];
  let answer: (res: http.ServerResponse) => void;
  const sockets: import('node:net').Socket[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Seen['body'], });
        answer(res);
      });
    });
    server.on('connection', (s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ data: { __typename: 'Query' } }));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the token, the document and its variables (no separate operation name, like pycti) and extra headers, and returns the data', async () => {
    const gql = createGraphQLClient({ url: `${url}/`, token: TOKEN, timeoutMs: 5000 });
    await expect(gql.request(QUERY, { id: 'x' }, { headers: { 'opencti-draft-id': 'draft-1' } })).resolves.toEqual({ __typename: 'Query' });
    gql.close();
    expect(seen).toHaveLength(1);
    expect(seen[0].headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'opencti-draft-id': 'draft-1', 'content-type': 'application/json', accept: 'application/json' });
    expect(seen[0].body).toEqual({ query: QUERY, variables: { id: 'x' } });
  });

  it('keeps its connections alive across calls, and close() drops them', async () => {
    const gql = createGraphQLClient({ url, token: TOKEN, timeoutMs: 5000 });
    const before = sockets.length;
    for (let i = 0; i < 6; i++) await gql.request(QUERY);
    // undici may open a second socket while the first finishes its answer; then both are reused.
    const opened = sockets.slice(before);
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.length).toBeLessThanOrEqual(2);
    expect(opened.every((s) => !s.destroyed)).toBe(true);
    const closed = opened.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
    gql.close();
    await Promise.all(closed);
    expect(opened.every((s) => s.destroyed)).toBe(true);
  });

  it('cuts an answer larger than maxResponseBytes (PLATFORM_UNAVAILABLE)', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { blob: 'x'.repeat(64 * 1024) } }));
    const gql = createGraphQLClient({ url, token: TOKEN, timeoutMs: 5000, maxResponseBytes: 16 * 1024 });
    await expect(gql.request(QUERY)).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: expect.stringContaining(`answered more than ${16 * 1024} bytes`) });
    gql.close();
  });

  it.each([
    ['a 404 HTML page', 404, 'text/html', '<!doctype html><p>Not found</p>', { code: 'PLATFORM_UNAVAILABLE', setting: 'OPENCTI_URL', message: expect.stringContaining('answered HTTP 404 with an HTML page') }],
    ['a 200 without a body', 200, '', '', { setting: 'OPENCTI_URL', message: expect.stringContaining('answered HTTP 200 with an empty body') }],
    ['a 200 JSON without data', 200, 'application/json', '{"data":null}', { setting: 'OPENCTI_URL', message: expect.stringContaining('answered JSON without GraphQL data') }],
    ['a 200 labelled JSON that is not JSON', 200, 'application/json', '{"data":', { setting: 'OPENCTI_URL', message: expect.stringContaining('not GraphQL JSON') }],
    ['a 400 with GraphQL errors', 400, 'application/json', '{"errors":[{"message":"Cannot query field","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}', { code: 'PLATFORM_REJECTED', message: expect.stringContaining('Cannot query field (GRAPHQL_VALIDATION_FAILED)') }],
    ['a 429 text page', 429, 'text/plain', 'slow down', { code: 'PLATFORM_UNAVAILABLE', message: expect.stringContaining('HTTP 429') }],
    ['a 200 with FORBIDDEN_ACCESS', 200, 'application/json', '{"errors":[{"message":"You are not allowed to do this.","extensions":{"code":"FORBIDDEN_ACCESS"}}],"data":null}', { code: 'PLATFORM_FORBIDDEN' }],
  ])('explains %s', async (_name, status, contentType, body, expected) => {
    answer = (res) => res.writeHead(status, contentType ? { 'content-type': contentType } : {}).end(body);
    const gql = createGraphQLClient({ url, token: TOKEN, timeoutMs: 5000 });
    const err = await gql.request(QUERY).catch((e: unknown) => e);
    gql.close();
    expect(err).toMatchObject(expected);
  });

  it('does not send a call whose caller already aborted, and does not tell the gate', async () => {
    const settled: unknown[] = [];
    const gate: CallGate = { admit: () => undefined, settle: (error) => settled.push(error) };
    const gql = createGraphQLClient({ url, token: TOKEN, timeoutMs: 5000, gate });
    const aborted = new AbortController();
    aborted.abort();
    await expect(gql.request(QUERY, {}, { signal: aborted.signal })).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', aborted: true, message: expect.stringContaining('aborted by the caller') });
    gql.close();
    expect(seen).toHaveLength(0);
    expect(settled).toEqual([]);
  });
});
