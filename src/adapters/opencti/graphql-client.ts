import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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
 * The one HTTP client of the OpenCTI GraphQL API (`POST <url>/graphql`, protocol §5). Built on
 * node:http(s) so the TLS trust (verification on by default, extra CA file, explicit opt-out) and the
 * deadline are ours to set. `timeoutMs` is an ABSOLUTE deadline per call: connecting, the headers and
 * the whole body must arrive within it (an answer trickling one byte a second is cut, unlike a socket
 * idle timeout). Errors are mapped once, here, and never carry the token:
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

interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  const endpoint = new URL(options.url.replace(/\/+$/, '') + '/graphql');
  const isHttps = endpoint.protocol === 'https:';
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const redact = createRedactor([options.token]);
  const urlHint = `check OPENCTI_URL (${endpoint.origin}): it must be the platform's base URL, e.g. http://opencti:8080, without /graphql`;
  let agent: http.Agent | undefined;

  function agentFor(): http.Agent {
    if (agent) return agent;
    if (isHttps) {
      let ca: Buffer | undefined;
      try {
        ca = options.caFile ? readFileSync(options.caFile) : undefined;
      } catch (err) {
        throw new ConfigError(`OPENCTI_CA_FILE (opencti.ca_file): cannot read ${options.caFile}: ${(err as Error).message}`, { cause: err });
      }
      agent = new https.Agent({ keepAlive: true, rejectUnauthorized: options.sslVerify !== false, ...(ca ? { ca } : {}) });
    } else {
      agent = new http.Agent({ keepAlive: true });
    }
    return agent;
  }

  function send(operation: string | undefined, payload: Buffer, requestOptions: RequestOptions, currentAgent: http.Agent): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        fn();
      };
      const fail = (err: NodeJS.ErrnoException): void =>
        finish(() => {
          if (requestOptions.signal?.aborted) {
            reject(Object.assign(new PlatformUnavailableError(`${operation}: call aborted by the caller`, { cause: err }), { aborted: true }));
          } else if (err.code === 'DEADLINE') {
            reject(new PlatformUnavailableError(`${operation}: OpenCTI timed out: ${err.message}`, { cause: err }));
          } else if (err.code && TLS_TRUST_CODES.has(err.code)) {
            reject(
              new PlatformSettingError('OPENCTI_CA_FILE', `${operation}: the certificate of ${endpoint.origin} is not trusted (${err.message}): set OPENCTI_CA_FILE to the CA that signed it`, { cause: err }),
            );
          } else {
            reject(new PlatformUnavailableError(`${operation}: OpenCTI unreachable at ${endpoint.origin}: ${err.message}`, { cause: err }));
          }
        });
      const req = (isHttps ? https : http).request(
        endpoint,
        {
          method: 'POST',
          agent: currentAgent,
          headers: {
            'content-type': 'application/json',
            'content-length': payload.length,
            accept: 'application/json',
            authorization: `Bearer ${options.token}`,
            ...requestOptions.headers,
          },
          signal: requestOptions.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              const err = new Error(`answer larger than ${maxBytes} bytes`);
              req.destroy(err);
              fail(err);
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            finish(() => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') })),
          );
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(new Error('connection closed before the whole answer arrived'));
          });
        },
      );
      // Absolute: armed once, covers connect, headers and the whole body. Settles even if the socket is
      // already gone (destroy would then emit nothing).
      const deadline = setTimeout(() => {
        const err = Object.assign(new Error(`no complete answer within ${options.timeoutMs} ms (OPENCTI_TIMEOUT_MS)`), { code: 'DEADLINE' });
        req.destroy(err);
        fail(err);
      }, options.timeoutMs);
      req.on('error', fail);
      req.end(payload);
    });
  }

  function interpret<T>(operation: string | undefined, { status, contentType, body }: RawAnswer): T {
    if (status === 401) throw new PlatformAuthError(`${operation}: OpenCTI refused the token (HTTP 401); ${TOKEN_HINT}`);
    if (status === 403) throw new PlatformForbiddenError(`${operation}: OpenCTI answered HTTP 403: the connector user lacks a permission (check its role), or a proxy blocks the call`);
    if (status >= 500 || status === 429 || status === 408) throw new PlatformUnavailableError(`${operation}: OpenCTI answered HTTP ${status}`);
    let parsed: { data?: T | null; errors?: GraphQLErrorEntry[] };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      const what = isHtml(contentType, body) ? 'an HTML page' : body.length === 0 ? 'an empty body' : `a body that is not JSON (${contentType || 'no content type'})`;
      throw new PlatformSettingError('OPENCTI_URL', `${operation}: ${endpoint.href} answered HTTP ${status} with ${what}, not GraphQL JSON: ${urlHint}`);
    }
    if (parsed?.errors && parsed.errors.length > 0) throw graphQLErrorToConnectorError(operation, parsed.errors);
    if (status < 200 || status >= 300) throw new PlatformRejectedError(`${operation}: OpenCTI answered HTTP ${status}`);
    if (!parsed || typeof parsed !== 'object' || parsed.data === undefined || parsed.data === null) {
      throw new PlatformSettingError('OPENCTI_URL', `${operation}: ${endpoint.href} answered JSON without GraphQL data: ${urlHint}`);
    }
    return parsed.data;
  }

  async function request<T>(document: string, variables: Record<string, unknown> = {}, requestOptions: RequestOptions = {}): Promise<T> {
    const operation = operationNameOf(document);
    const probe = requestOptions.probe === true;
    options.gate?.admit(operation, probe);
    options.onRequest?.(operation);
    const payload = Buffer.from(JSON.stringify({ query: document, variables, operationName: operation }));
    const currentAgent = agentFor();
    try {
      const data = interpret<T>(operation, await send(operation, payload, requestOptions, currentAgent));
      options.gate?.settle(null, probe);
      return data;
    } catch (err) {
      if (!(err as { aborted?: boolean }).aborted) options.gate?.settle(err, probe);
      throw err instanceof Error ? scrubbed(err, redact) : err;
    }
  }

  return {
    request,
    close: () => {
      agent?.destroy();
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
