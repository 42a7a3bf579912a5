import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessageOf } from '../errors';
import type { Logger } from './logger';

/**
 * The daemon's observability endpoint (config section `http`):
 *   GET /healthz  200 while the process runs (liveness: restart only when this fails)
 *   GET /readyz   200 when `readiness()` says ready (broker channel open, platform registered), else 503
 *   GET /status   JSON for `coverage-connector status` (in-flight jobs, scheduler leader, last success)
 *   GET /metrics  Prometheus text format
 * Read-only; nothing here changes the daemon.
 */

export interface Readiness {
  ready: boolean;
  /** Each check by name (e.g. broker, platform) with ok and a short detail. */
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface HttpServerOptions {
  host: string;
  /** 0 = any free port (tests); the bound port is in `port` after start(). */
  port: number;
  log: Pick<Logger, 'info' | 'warn'>;
  readiness: () => Readiness | Promise<Readiness>;
  status: () => unknown | Promise<unknown>;
  metrics: { text(): Promise<string>; contentType: string };
}

export interface HttpServer {
  start(): Promise<{ port: number; host: string }>;
  readonly port: number | undefined;
  /** Idempotent. */
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);

export function createHttpServer(options: HttpServerOptions): HttpServer {
  let server: http.Server | undefined;
  let port: number | undefined;
  let closing: Promise<void> | undefined;

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: 'method not allowed' });
    }
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok' });
      case '/readyz': {
        const r = await options.readiness();
        return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks });
      }
      case '/status':
        return json(res, 200, await options.status());
      case '/metrics':
        return send(res, 200, options.metrics.contentType, await options.metrics.text());
      default:
        return json(res, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', '/status', '/metrics'] });
    }
  }

  return {
    get port() {
      return port;
    },
    async start() {
      if (server) throw new Error('HTTP server already started');
      const s = http.createServer((req, res) => {
        route(req, res).catch((err: unknown) => {
          options.log.warn({ err: { message: errorMessageOf(err) }, url: req.url }, 'HTTP endpoint failed');
          if (!res.headersSent) json(res, 500, { error: errorMessageOf(err) });
          else res.end();
        });
      });
      server = s;
      // Probes must not keep sockets open across a shutdown.
      s.keepAliveTimeout = 5000;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.port, options.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      port = (s.address() as AddressInfo).port;
      options.log.info({ host: options.host, port }, 'HTTP endpoint listening (/healthz /readyz /status /metrics)');
      return { port, host: options.host };
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

// ─── what the daemon exposes (built by main.ts) ─────────────────────────────────────────────────

/** Filled in by main.ts once each part is up; until then /readyz says not ready. */
export interface DaemonLiveState {
  connectorId: string;
  listenQueue?: string;
  deadLetterQueue?: string;
  registered?: boolean;
  broker?: { readonly connected: boolean };
  worker?: { readonly inFlight: number };
  scheduler?: { isLeader(): boolean };
  schedulerEnabled: boolean;
  startedAt: Date;
}

export function daemonReadiness(live: DaemonLiveState): Readiness {
  const platform = live.registered === true;
  const broker = live.broker?.connected === true;
  return {
    ready: platform && broker,
    checks: {
      platform: { ok: platform, detail: platform ? 'registered' : 'not registered yet' },
      broker: { ok: broker, detail: broker ? 'channel open' : live.broker ? 'disconnected; reconnecting' : 'not connected yet' },
    },
  };
}

/** The JSON of GET /status, read by `coverage-connector status` (src/app/operator.ts DaemonStatus). */
export function daemonStatus(live: DaemonLiveState, snapshot: { received: number; succeeded: number; failed: number; deadLettered: number; lastSuccessAt: Date | null }, now: Date): Record<string, unknown> {
  return {
    connector_id: live.connectorId,
    registered: live.registered === true,
    broker_connected: live.broker?.connected === true,
    listen_queue: live.listenQueue ?? null,
    dead_letter_queue: live.deadLetterQueue ?? null,
    in_flight: live.worker?.inFlight ?? 0,
    scheduler: { enabled: live.schedulerEnabled, leader: live.scheduler ? live.scheduler.isLeader() : live.schedulerEnabled ? null : false },
    last_success: snapshot.lastSuccessAt ? snapshot.lastSuccessAt.toISOString() : null,
    counters: { received: snapshot.received, succeeded: snapshot.succeeded, failed: snapshot.failed, dead_lettered: snapshot.deadLettered },
    started_at: live.startedAt.toISOString(),
    uptime_seconds: Math.round((now.getTime() - live.startedAt.getTime()) / 1000),
  };
}
