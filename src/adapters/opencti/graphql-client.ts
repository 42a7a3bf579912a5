import { readFileSync } from 'node:fs';
import { GraphQLClient as RequestClient } from 'graphql-request';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import {
  ConfigError,
  PlatformAuthError,
  PlatformForbiddenError,
  PlatformRejectedError,
  PlatformSettingError,
  PlatformUnavailableError,
} from '../../errors';
import { createRedactor } from '../../redact';

/**
 * The one HTTP client of the OpenCTI GraphQL API (`POST <url>/graphql`, protocol §5): graphql-request
 * builds the request and reads the GraphQL answer; its `fetch` is ours, on undici's `request` and an
 * Agent of ours, so the TLS trust (verification on by default, extra CA file, explicit opt-out),
 * keep-alive, the size cap and the deadline are ours to set (undici's `request`, not its WHATWG
 * `fetch`: a half to a quarter of the CPU per call, measured). `timeoutMs` is an ABSOLUTE deadline per
 * call: connecting, the headers and the whole body must arrive within it (an answer trickling one byte
 * a second is cut, unlike a socket idle timeout). Errors are mapped once, here, and never carry the token:
 *   network failure, deadline, HTTP 5xx/429/408, transient GraphQL codes  → PlatformUnavailableError
 *   an answer that is not GraphQL JSON (HTML page), untrusted certificate → PlatformSettingError (names the variable)
 *   HTTP 401, GraphQL AUTH_REQUIRED                                        → PlatformAuthError (names OPENCTI_TOKEN)
 *   HTTP 403, GraphQL FORBIDDEN_ACCESS                                     → PlatformForbiddenError
 *   any other GraphQL error / HTTP 4xx                                     → PlatformRejectedError
 * An optional CallGate (the circuit breaker, src/app/platform-breaker.ts) sees every call.
 */

export interface GraphQLErrorEntry {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RequestOptions {
  /** Extra headers, e.g. `opencti-draft-id` (§5). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The circuit breaker's own probe: let through while the circuit is open. */
  probe?: boolean;
}

export interface GraphQLClient {
  request<T>(document: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<T>;
  /** Drops keep-alive sockets (shutdown). */
  close(): void;
}

/** Sees every call: may refuse it before it is sent, and learns how it ended. */
export interface CallGate {
  /** Throws to refuse the call (circuit open). */
  admit(operation: string | undefined, probe: boolean): void;
  /** How an admitted call ended: null = the platform answered. Not called when the caller aborted. */
  settle(error: unknown, probe: boolean): void;
}

export interface GraphQLClientOptions {
  /** Platform base URL, e.g. https://opencti.example.org (`/graphql` is appended). */
  url: string;
  token: string;
  /** Absolute deadline of one call (connect + headers + whole body). */
  timeoutMs: number;
  /** false disables certificate verification (logged loudly by the caller, never silent). */
  sslVerify?: boolean;
  /** PEM file of an extra CA; read on first use, not at construction. */
  caFile?: string;
  /** Called for every outgoing operation (tests and debug logs). */
  onRequest?: (operationName: string | undefined) => void;
  gate?: CallGate;
  /** Largest answer accepted (default 256 MiB): a runaway proxy cannot fill the heap within the deadline. */
  maxResponseBytes?: number;
}

const AUTH_CODES = new Set(['AUTH_REQUIRED', 'AUTH_FAILURE', 'UNAUTHENTICATED']);
const FORBIDDEN_CODES = new Set(['FORBIDDEN_ACCESS', 'FORBIDDEN']);
/** Errors the platform raises for conditions that clear on their own (retried, counted by the breaker). */
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'LOCK_ERROR', 'DATABASE_ERROR', 'ENGINE_ERROR', 'TIMEOUT_ERROR', 'TIMEOUT', 'UNKNOWN_ERROR']);
/** Node's codes for a certificate we do not trust: a setting to fix, not an outage. */
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const TOKEN_HINT = "check OPENCTI_TOKEN (revoked, rotated or mistyped?) and that the connector user still exists";

function operationNameOf(document: string): string | undefined {
  return /\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(document)?.[1];
}

/** Maps the `errors` array of a GraphQL answer to one typed error (the first decides). */
export function graphQLErrorToConnectorError(operation: string | undefined, errors: GraphQLErrorEntry[]): Error {
  const first = errors[0] ?? { message: 'unknown GraphQL error' };
  const code = first.extensions?.code;
  const text = `${operation ?? 'GraphQL'}: ${errors.map((e) => e.message).join('; ')}${code ? ` (${code})` : ''}`;
  const cause = { cause: errors };
  if (code && AUTH_CODES.has(code)) return new PlatformAuthError(`${text}: OpenCTI rejected the token; ${TOKEN_HINT}`, cause);
  if (code && FORBIDDEN_CODES.has(code)) return new PlatformForbiddenError(`${text}: the connector user lacks a permission (check its role in OpenCTI)`, cause);
  if (code && TRANSIENT_CODES.has(code)) return new PlatformUnavailableError(text, cause);
  return new PlatformRejectedError(text, cause);
}

/** The error with the token scrubbed from its message and from the GraphQL errors it carries. */
function scrubbed(err: Error, redact: (text: string) => string): Error {
  err.message = redact(err.message);
  const cause = (err as { cause?: unknown }).cause;
  if (Array.isArray(cause)) {
    try {
      Object.defineProperty(err, 'cause', { value: JSON.parse(redact(JSON.stringify(cause))) as unknown, configurable: true, writable: true });
    } catch {
      /* a cause that is not plain JSON: keep it, the message is clean */
    }
  }
  return err;
}

function isHtml(contentType: string, body: string): boolean {
  return /html/i.test(contentType) || /^\s*<(!doctype|html|head|body)/i.test(body);
}

/** The content types graphql-request reads as GraphQL JSON. */
const GRAPHQL_JSON_TYPE = /application\/(graphql-response\+)?json/i;

interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * The part of a fetch Response that graphql-request reads (`ok`, `status`, `headers.get`, `text()`),
 * over an answer already read whole. A WHATWG Response around it would cost about 40 µs of CPU per call
 * for its body stream, more than half again the ~70 µs of the undici round trip (measured here).
 */
function readAnswer(status: number, contentType: string, body: string): Response {
  const answer = {
    ok: true,
    status,
    headers: { get: (name: string) => (name.toLowerCase() === 'content-type' ? contentType : null) },
    text: () => Promise.resolve(body),
  };
  return answer as unknown as Response;
}

/** No complete answer arrived (connect, TLS, reset, size cap, deadline, abort): thrown by the transport only. */
class TransportFailure extends Error {}

/** An answer that is not a 2xx GraphQL JSON one: the transport hands it to the client to explain. */
class UnusableAnswer extends Error {
  constructor(readonly answer: RawAnswer) {
    super(`HTTP ${answer.status} answer of type ${answer.contentType || 'none'}`);
  }
}

/**
 * The messages and codes along an error's cause chain (a TLS code may sit under a wrapper).
 * Duck-typed: errors raised by Node's core are not `instanceof` another realm's Error.
 */
function causeChain(err: unknown): Array<{ message: string; code?: string }> {
  const chain: Array<{ message: string; code?: string }> = [];
  for (let e = err as { message?: unknown; code?: unknown; cause?: unknown } | undefined; e && typeof e === 'object' && chain.length < 5; e = e.cause as typeof e) {
    chain.push({ message: String(e.message), ...(typeof e.code === 'string' ? { code: e.code } : {}) });
  }
  return chain;
}

export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  const endpoint = new URL(options.url.replace(/\/+$/, '') + '/graphql');
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const redact = createRedactor([options.token]);
  const urlHint = `check OPENCTI_URL (${endpoint.origin}): it must be the platform's base URL, e.g. http://opencti:8080, without /graphql`;
  const noData = (operation: string | undefined): Error => new PlatformSettingError('OPENCTI_URL', `${operation}: ${endpoint.href} answered JSON without GraphQL data: ${urlHint}`);
  let agent: Agent | undefined;

  function agentFor(): Agent {
    if (agent) return agent;
    let ca: Buffer | undefined;
    try {
      ca = options.caFile && endpoint.protocol === 'https:' ? readFileSync(options.caFile) : undefined;
    } catch (err) {
      throw new ConfigError(`OPENCTI_CA_FILE (opencti.ca_file): cannot read ${options.caFile}: ${(err as Error).message}`, { cause: err });
    }
    // Keep-alive is undici's default (sockets idle 4 s, under Node's 5 s server default, are reused).
    agent = new Agent({ connect: { rejectUnauthorized: options.sslVerify !== false, ...(ca ? { ca } : {}) }, maxResponseSize: maxBytes });
    return agent;
  }

  /**
   * graphql-request's fetch. The whole answer is read here, under the call's signal (caller abort and
   * deadline), so every transport failure surfaces from this one place; graphql-request only ever sees
   * a 2xx JSON answer, and every other one is explained by answerError (status first, then the body).
   */
  const transport = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let status: number;
    let contentType: string;
    let body: string;
    try {
      const res = await undiciRequest(input as string | URL, {
        method: (init.method ?? 'POST') as Dispatcher.HttpMethod,
        headers: init.headers as Dispatcher.DispatchOptions['headers'],
        body: init.body as string,
        signal: init.signal ?? undefined,
        dispatcher: agentFor(),
      });
      status = res.statusCode;
      contentType = String(res.headers['content-type'] ?? '');
      body = await res.body.text();
    } catch (err) {
      throw new TransportFailure('no complete answer', { cause: err });
    }
    if (status < 200 || status >= 300 || !GRAPHQL_JSON_TYPE.test(contentType)) throw new UnusableAnswer({ status, contentType, body });
    return readAnswer(status, contentType, body);
  };

  // errorPolicy 'all': GraphQL errors come back with the answer (rawRequest), not as a ClientError that
  // serialises the whole request (a pushed bundle) into its message; they are mapped below.
  const client = new RequestClient(endpoint.href, {
    fetch: transport as typeof fetch,
    headers: { accept: 'application/json', authorization: `Bearer ${options.token}` },
    errorPolicy: 'all',
    // Without it graphql-request parses every document again to send its operation name; the
    // platform (Apollo) takes the name from the document it parses anyway.
    excludeOperationName: true,
  });

  function transportError(operation: string | undefined, failure: TransportFailure, aborted: boolean, timedOut: boolean): Error {
    const cause = failure.cause;
    if (aborted) return Object.assign(new PlatformUnavailableError(`${operation}: call aborted by the caller`, { cause }), { aborted: true });
    if (timedOut) return new PlatformUnavailableError(`${operation}: OpenCTI timed out: no complete answer within ${options.timeoutMs} ms (OPENCTI_TIMEOUT_MS)`, { cause });
    const chain = causeChain(cause);
    if (chain.some((c) => c.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')) return new PlatformUnavailableError(`${operation}: OpenCTI answered more than ${maxBytes} bytes`, { cause });
    const tls = chain.find((c) => c.code && TLS_TRUST_CODES.has(c.code));
    if (tls) {
      return new PlatformSettingError('OPENCTI_CA_FILE', `${operation}: the certificate of ${endpoint.origin} is not trusted (${tls.message}): set OPENCTI_CA_FILE to the CA that signed it`, { cause });
    }
    return new PlatformUnavailableError(`${operation}: OpenCTI unreachable at ${endpoint.origin}: ${chain.map((c) => c.message).join(': ') || 'no answer'}`, { cause });
  }

  /** The error an answer without usable data stands for; status rules first, as an HTML 502 is an outage. */
  function answerError(operation: string | undefined, { status, contentType, body }: RawAnswer): Error {
    if (status === 401) return new PlatformAuthError(`${operation}: OpenCTI refused the token (HTTP 401); ${TOKEN_HINT}`);
    if (status === 403) return new PlatformForbiddenError(`${operation}: OpenCTI answered HTTP 403: the connector user lacks a permission (check its role), or a proxy blocks the call`);
    if (status >= 500 || status === 429 || status === 408) return new PlatformUnavailableError(`${operation}: OpenCTI answered HTTP ${status}`);
    let parsed: { errors?: GraphQLErrorEntry[] } | null;
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      const what = isHtml(contentType, body) ? 'an HTML page' : body.length === 0 ? 'an empty body' : `a body that is not JSON (${contentType || 'no content type'})`;
      return new PlatformSettingError('OPENCTI_URL', `${operation}: ${endpoint.href} answered HTTP ${status} with ${what}, not GraphQL JSON: ${urlHint}`);
    }
    if (Array.isArray(parsed?.errors) && parsed.errors.length > 0) return graphQLErrorToConnectorError(operation, parsed.errors);
    if (status < 200 || status >= 300) return new PlatformRejectedError(`${operation}: OpenCTI answered HTTP ${status}`);
    return noData(operation);
  }

  /** Any failure of one call as a connector error (the error mapping of the header comment). */
  function connectorError(operation: string | undefined, err: unknown, aborted: boolean, timedOut: boolean): unknown {
    if (err instanceof TransportFailure) return transportError(operation, err, aborted, timedOut);
    if (err instanceof UnusableAnswer) return answerError(operation, err.answer);
    if (err instanceof SyntaxError || (err instanceof Error && /^Invalid execution result/.test(err.message))) {
      // graphql-request could not read a 2xx answer labelled as JSON.
      return new PlatformSettingError('OPENCTI_URL', `${operation}: ${endpoint.href} answered a body that is not GraphQL JSON (${err.message.split('\n')[0]}): ${urlHint}`);
    }
    return err;
  }

  async function request<T>(document: string, variables: Record<string, unknown> = {}, requestOptions: RequestOptions = {}): Promise<T> {
    const operation = operationNameOf(document);
    const probe = requestOptions.probe === true;
    options.gate?.admit(operation, probe);
    options.onRequest?.(operation);
    agentFor();
    // Absolute: armed once, covers connect, headers and the whole body (the transport reads it all).
    const call = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      call.abort();
    }, options.timeoutMs);
    const caller = requestOptions.signal;
    const onCallerAbort = (): void => call.abort();
    if (caller?.aborted) call.abort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const { data, errors } = await client.rawRequest<T>({ query: document, variables, requestHeaders: requestOptions.headers, signal: call.signal });
      if (Array.isArray(errors) && errors.length > 0) throw graphQLErrorToConnectorError(operation, errors as unknown as GraphQLErrorEntry[]);
      if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) throw noData(operation);
      options.gate?.settle(null, probe);
      return data;
    } catch (thrown) {
      const err = connectorError(operation, thrown, caller?.aborted === true, timedOut);
      if (!(err as { aborted?: boolean }).aborted) options.gate?.settle(err, probe);
      throw err instanceof Error ? scrubbed(err, redact) : err;
    } finally {
      clearTimeout(deadline);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    request,
    close: () => {
      agent?.destroy().catch(() => undefined);
      agent = undefined;
    },
  };
}

/** The circuit breaker's probe: the cheapest authenticated query (answers only with the token accepted). */
export const PLATFORM_PROBE = /* GraphQL */ `
  query PlatformProbe {
    about {
      version
    }
  }
`;

export async function probePlatform(gql: GraphQLClient, signal?: AbortSignal): Promise<void> {
  await gql.request(PLATFORM_PROBE, {}, { probe: true, ...(signal ? { signal } : {}) });
}
