import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { PlatformAuthError, PlatformRejectedError, PlatformUnavailableError } from '../../errors';

/**
 * The one HTTP client of the OpenCTI GraphQL API (`POST <url>/graphql`, protocol §5). Built on
 * node:http(s) so the TLS trust (verification on by default, extra CA file, explicit opt-out) and the
 * per-call timeout are ours to set. Errors are mapped once, here:
 *   network failure, timeout, HTTP 5xx/429, unparsable answer → PlatformUnavailableError (retried)
 *   HTTP 401/403, GraphQL AUTH_REQUIRED/FORBIDDEN_ACCESS      → PlatformAuthError
 *   any other GraphQL error / HTTP 4xx                          → PlatformRejectedError
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
}

export interface GraphQLClient {
  request<T>(document: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<T>;
  /** Drops keep-alive sockets (shutdown). */
  close(): void;
}

export interface GraphQLClientOptions {
  /** Platform base URL, e.g. https://opencti.example.org (`/graphql` is appended). */
  url: string;
  token: string;
  timeoutMs: number;
  /** false disables certificate verification (logged loudly by the caller, never silent). */
  sslVerify?: boolean;
  /** PEM file of an extra CA; read on first use, not at construction. */
  caFile?: string;
  /** Called for every outgoing operation (tests and debug logs). */
  onRequest?: (operationName: string | undefined) => void;
}

const AUTH_CODES = new Set(['AUTH_REQUIRED', 'FORBIDDEN_ACCESS', 'UNAUTHENTICATED', 'FORBIDDEN']);
/** Errors the platform raises for conditions that clear on their own. */
const TRANSIENT_CODES = new Set(['LOCK_ERROR', 'DATABASE_ERROR', 'ENGINE_ERROR', 'TIMEOUT_ERROR']);

function operationNameOf(document: string): string | undefined {
  return /\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(document)?.[1];
}

/** Maps the `errors` array of a GraphQL answer to one typed error (the first decides). */
export function graphQLErrorToConnectorError(operation: string | undefined, errors: GraphQLErrorEntry[]): Error {
  const first = errors[0] ?? { message: 'unknown GraphQL error' };
  const code = first.extensions?.code;
  const text = `${operation ?? 'GraphQL'}: ${errors.map((e) => e.message).join('; ')}${code ? ` (${code})` : ''}`;
  const cause = { cause: errors };
  if (code && AUTH_CODES.has(code)) return new PlatformAuthError(text, cause);
  if (code && TRANSIENT_CODES.has(code)) return new PlatformUnavailableError(text, cause);
  return new PlatformRejectedError(text, cause);
}

export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  const endpoint = new URL(options.url.replace(/\/+$/, '') + '/graphql');
  const isHttps = endpoint.protocol === 'https:';
  let agent: http.Agent | undefined;

  function agentFor(): http.Agent {
    if (agent) return agent;
    if (isHttps) {
      const ca = options.caFile ? readFileSync(options.caFile) : undefined;
      agent = new https.Agent({ keepAlive: true, rejectUnauthorized: options.sslVerify !== false, ...(ca ? { ca } : {}) });
    } else {
      agent = new http.Agent({ keepAlive: true });
    }
    return agent;
  }

  async function request<T>(document: string, variables: Record<string, unknown> = {}, requestOptions: RequestOptions = {}): Promise<T> {
    const operation = operationNameOf(document);
    options.onRequest?.(operation);
    const payload = Buffer.from(JSON.stringify({ query: document, variables, operationName: operation }));
    let currentAgent: http.Agent;
    try {
      currentAgent = agentFor();
    } catch (err) {
      throw new PlatformUnavailableError(`cannot read OPENCTI_CA_FILE ${options.caFile}: ${(err as Error).message}`, { cause: err });
    }
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
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
          timeout: options.timeoutMs,
          signal: requestOptions.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err) => reject(new PlatformUnavailableError(`${operation}: response interrupted: ${err.message}`, { cause: err })));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
      req.on('error', (err) => reject(new PlatformUnavailableError(`${operation}: OpenCTI unreachable at ${endpoint.origin}: ${err.message}`, { cause: err })));
      req.end(payload);
    });

    if (status === 401 || status === 403) {
      throw new PlatformAuthError(`${operation}: OpenCTI refused the token (HTTP ${status}); check OPENCTI_TOKEN and the connector user's role`);
    }
    if (status >= 500 || status === 429 || status === 408) {
      throw new PlatformUnavailableError(`${operation}: OpenCTI answered HTTP ${status}`);
    }
    let parsed: { data?: T | null; errors?: GraphQLErrorEntry[] };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      // A proxy page or a truncated answer: treat as an outage, the next attempt may get through.
      throw new PlatformUnavailableError(`${operation}: OpenCTI answered HTTP ${status} with a body that is not JSON`);
    }
    if (parsed?.errors && parsed.errors.length > 0) throw graphQLErrorToConnectorError(operation, parsed.errors);
    if (status < 200 || status >= 300) throw new PlatformRejectedError(`${operation}: OpenCTI answered HTTP ${status}`);
    if (!parsed || parsed.data === undefined || parsed.data === null) {
      throw new PlatformUnavailableError(`${operation}: OpenCTI answer has no data`);
    }
    return parsed.data;
  }

  return {
    request,
    close: () => {
      agent?.destroy();
      agent = undefined;
    },
  };
}
