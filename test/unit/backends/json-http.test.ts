import { createJsonHttp, HttpFailure } from '../../../src/adapters/http/json-http';
import { backoffDelay } from '../../../src/retry';

type Step = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

function scriptedFetch(steps: Step[]) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const impl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const step = steps.shift();
    if (!step) throw new Error('no more scripted responses');
    if (step instanceof Error) throw step;
    return new Response(step.body === undefined ? null : JSON.stringify(step.body), { status: step.status, headers: step.headers });
  }) as unknown as typeof fetch;
  return { impl, calls };
}

function client(steps: Step[], maxAttempts = 4) {
  const fetch = scriptedFetch(steps);
  const delays: number[] = [];
  const http = createJsonHttp({
    baseUrl: 'http://backend.test/',
    headers: { authorization: 'Bearer t' },
    timeoutMs: 1000,
    maxAttempts,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 1,
    fetchImpl: fetch.impl,
  });
  return { http, delays, calls: fetch.calls };
}

const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

describe('JSON HTTP client', () => {
  it('retries network errors and 5xx with growing, capped delays, then succeeds', async () => {
    const { http, delays, calls } = client([refused, { status: 503 }, { status: 502 }, { status: 200, body: { ok: true } }]);
    await expect(http.request('GET', '/x')).resolves.toEqual({ status: 200, body: { ok: true } });
    expect(calls).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(calls[0].url).toBe('http://backend.test/x');
    expect((calls[0].init.headers as Record<string, string>).authorization).toBe('Bearer t');
  });

  it('gives up after max attempts as unreachable, naming the cause', async () => {
    const { http, calls } = client([refused, refused, refused], 3);
    const err = await http.request('GET', '/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpFailure);
    expect(err).toMatchObject({ kind: 'unreachable', attempts: 3 });
    expect((err as Error).message).toMatch(/ECONNREFUSED \(after 3 attempt\(s\)\)/);
    expect(calls).toHaveLength(3);
  });

  it('does not retry refused credentials or other client errors', async () => {
    const auth = client([{ status: 401, body: { error: 'Unauthorized' } }]);
    await expect(auth.http.request('GET', '/x')).rejects.toMatchObject({ kind: 'auth', status: 401 });
    expect(auth.calls).toHaveLength(1);
    const bad = client([{ status: 400, body: { message: 'bad' } }]);
    await expect(bad.http.request('POST', '/x', {})).rejects.toMatchObject({ kind: 'rejected', status: 400 });
    expect(bad.calls).toHaveLength(1);
  });

  it('honours Retry-After on 429 but never beyond the cap', async () => {
    const { http, delays } = client([{ status: 429, headers: { 'retry-after': '30' } }, { status: 200, body: [] }]);
    await http.request('GET', '/x');
    expect(delays).toEqual([1000]);
  });

  it('rebuilds a body function on every attempt', async () => {
    const { http, calls } = client([{ status: 500 }, { status: 200, body: {} }]);
    await http.request('POST', '/x', (attempt: number) => ({ attempt }));
    expect(calls.map((c) => c.init.body)).toEqual(['{"attempt":1}', '{"attempt":2}']);
  });

  it('treats an empty 2xx body as undefined and a non-JSON one as rejected', async () => {
    await expect(client([{ status: 200 }]).http.request('POST', '/x', {})).resolves.toEqual({ status: 200, body: undefined });
    const impl = (async () => new Response('<html>', { status: 200 })) as unknown as typeof fetch;
    const http = createJsonHttp({ baseUrl: 'http://b', timeoutMs: 100, maxAttempts: 1, backoffBaseMs: 1, backoffMaxMs: 1, fetchImpl: impl });
    await expect(http.request('GET', '/x')).rejects.toMatchObject({ kind: 'rejected' });
  });

  it('computes jittered exponential delays within [ceiling/2, ceiling], ceiling capped', () => {
    expect(backoffDelay(1, { backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, { backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 1 })).toBe(400);
    expect(backoffDelay(10, { backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 1 })).toBe(1000);
  });
});
