import { backoffDelay, sleep } from '../../retry';

/**
 * A small JSON-over-HTTP client for the simulation backends (OpenAEV, SIEM). It classifies every
 * failure once (unreachable / auth / rejected) and retries only what can heal — network errors,
 * timeouts, 5xx and 429 — a bounded number of times with capped, jittered exponential backoff, so a
 * down backend never sees a retry storm. Callers map the classification onto their own error codes.
 */

export type HttpFailureKind = 'unreachable' | 'auth' | 'rejected';

export class HttpFailure extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
    readonly status: number | undefined,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpFailure';
  }
}

export interface JsonResponse<T> {
  status: number;
  /** Parsed JSON body; undefined when the body is empty. */
  body: T | undefined;
}

export interface JsonHttpOptions {
  baseUrl: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Injected for tests; defaults to the abortable sleep of src/retry.ts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1); defaults to Math.random. */
  random?: () => number;
  fetchImpl?: typeof fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Extra query-string parameters. */
  query?: Record<string, string>;
}

/** Body, or a function building the body for attempt n (1-based), e.g. to refresh a timestamp. */
export type RequestBody = unknown | ((attempt: number) => unknown);

export interface JsonHttp {
  request<T>(method: string, path: string, body?: RequestBody, options?: RequestOptions): Promise<JsonResponse<T>>;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

export function createJsonHttp(options: JsonHttpOptions): JsonHttp {
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const doFetch = options.fetchImpl ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function once<T>(method: string, url: string, body: unknown, signal: AbortSignal | undefined): Promise<JsonResponse<T> & { retryAfter?: number }> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const response = await doFetch(url, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    let parsed: T | undefined;
    if (text.trim().length > 0) {
      try {
        parsed = JSON.parse(text) as T;
      } catch {
        if (response.ok) throw new HttpFailure('rejected', `${method} ${url}: HTTP ${response.status} with a body that is not JSON`, response.status, 1);
      }
    }
    return { status: response.status, body: parsed, retryAfter: retryAfterMs(response.headers.get('retry-after')) };
  }

  return {
    async request<T>(method: string, path: string, body?: RequestBody, req: RequestOptions = {}): Promise<JsonResponse<T>> {
      const qs = req.query ? `?${new URLSearchParams(req.query).toString()}` : '';
      const url = `${base}${path.startsWith('/') ? path : `/${path}`}${qs}`;
      let lastMessage = '';
      for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
        let waitHint: number | undefined;
        try {
          const payload = typeof body === 'function' ? (body as (n: number) => unknown)(attempt) : body;
          const res = await once<T>(method, url, payload, req.signal);
          if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
          const detail = summarise(res.body);
          if (res.status === 401 || res.status === 403) {
            throw new HttpFailure('auth', `${method} ${url}: HTTP ${res.status} (credentials refused)${detail}`, res.status, attempt);
          }
          if (res.status !== 429 && res.status < 500) {
            throw new HttpFailure('rejected', `${method} ${url}: HTTP ${res.status}${detail}`, res.status, attempt);
          }
          lastMessage = `${method} ${url}: HTTP ${res.status}${detail}`;
          waitHint = res.retryAfter;
        } catch (err) {
          if (err instanceof HttpFailure) throw err;
          if (req.signal?.aborted) throw new HttpFailure('unreachable', `${method} ${url}: aborted`, undefined, attempt, { cause: err });
          lastMessage = `${method} ${url}: ${describeNetworkError(err)}`;
        }
        if (attempt < options.maxAttempts) {
          const computed = backoffDelay(attempt, { backoffBaseMs: options.backoffBaseMs, backoffMaxMs: options.backoffMaxMs, random });
          try {
            await wait(Math.min(options.backoffMaxMs, Math.max(computed, waitHint ?? 0)), req.signal);
          } catch (err) {
            if (req.signal?.aborted) throw new HttpFailure('unreachable', `${method} ${url}: aborted`, undefined, attempt, { cause: err });
            throw err;
          }
        }
      }
      throw new HttpFailure('unreachable', `${lastMessage} (after ${options.maxAttempts} attempt(s))`, undefined, options.maxAttempts);
    },
  };
}

function summarise(body: unknown): string {
  if (body === undefined || body === null) return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return `: ${text.slice(0, 300)}`;
}
