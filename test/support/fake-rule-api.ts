import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * The HTTP(S) plumbing the SIEM stand-ins share (fake-kibana, fake-splunk, fake-sentinel,
 * fake-wazuh): a loopback server, a log of requests, canned failures for the next N requests
 * (429 with Retry-After, 5xx, 401) and `down()` to make it unreachable while keeping its port.
 * Each stand-in only decides what one request answers, after its API documentation.
 */

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeApiOptions {
  /** Serve HTTPS with this key and certificate (test/support/tls-ca.ts). */
  tls?: { key: Buffer; cert: Buffer };
}

export interface FakeApi {
  url: string;
  requests: FakeRequest[];
  /** Answer the next `n` requests (to `path` only, when given) with this status (and headers, e.g. Retry-After). */
  failNext(n: number, status: number, extra?: { headers?: Record<string, string>; body?: unknown; path?: string }): void;
  /** Destroy every connection from now on (an outage), until up(). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startFakeApi(handle: (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>, options: FakeApiOptions = {}): Promise<FakeApi> {
  const requests: FakeRequest[] = [];
  const failures: Array<FakeAnswer & { path?: string }> = [];
  let isDown = false;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (isDown) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      void (async () => {
        let answer: FakeAnswer;
        try {
          const i = failures.findIndex((f) => f.path === undefined || f.path === request.path);
          answer = i >= 0 ? failures.splice(i, 1)[0] : await handle(request);
        } catch (err) {
          answer = { status: 500, body: { error: String(err) } };
        }
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      })();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    failNext(n, status, extra = {}) {
      for (let i = 0; i < n; i += 1) failures.push({ status, ...(extra.headers ? { headers: extra.headers } : {}), body: extra.body ?? { error: `HTTP ${status}` }, ...(extra.path ? { path: extra.path } : {}) });
    },
    down: () => {
      isDown = true;
    },
    up: () => {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** The bearer/basic/ApiKey credential of a request, or undefined. */
export const credentialOf = (req: FakeRequest): string | undefined => (typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);

export const unauthorized = (body: unknown): FakeAnswer => ({ status: 401, body });

/** A page of `items` from a 0-based offset. */
export const slice = <T>(items: readonly T[], offset: number, size: number): T[] => items.slice(Math.max(0, offset), Math.max(0, offset) + Math.max(0, size));
