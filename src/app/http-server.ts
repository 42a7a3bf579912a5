import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessageOf } from '../errors';
import type { Logger } from './logger';
import type { BreakerSnapshot } from './platform-breaker';
import type { CoverageReportService } from './report/coverage-report';
import type { WorkerHealth } from './worker';

/**
 * The daemon's observability endpoint (config section `http`):
 *   GET /healthz  200 while the process runs (liveness: restart only when this fails)
 *   GET /readyz   200 when `readiness()` says ready (registered, broker channel open, platform circuit
 *                 closed, jobs progressing), else 503
 *   GET /status   JSON for `coverage-connector status` (in-flight jobs, circuit, scheduler leader, last success)
 *   GET /metrics  Prometheus text format
 *   GET /coverages/<uuid>[/layer-detection.json|/layer-prevention.json|/bundle.json]  the coverage report
 *                 page (the coverage's external_uri with HTTP_PUBLIC_URL) and its downloads
 * Read-only; nothing here changes the daemon. Binds 127.0.0.1 unless told otherwise (HTTP_HOST); with
 * HTTP_AUTH_TOKEN, /status and /metrics require `Authorization: Bearer <token>` (the probes stay open).
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
  /** Bearer token required by /status and /metrics (HTTP_AUTH_TOKEN). */
  authToken?: string;
  /** The coverage report pages, once the daemon can serve them (undefined while starting: 503). */
  reports?: () => CoverageReportService | undefined;
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

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time check of `Authorization: Bearer <token>` (digests compared, so lengths leak nothing). */
function authorized(req: http.IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1].trim()), digest(token));
}

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
    if ((path === '/status' || path === '/metrics') && options.authToken && !authorized(req, options.authToken)) {
      res.setHeader('www-authenticate', 'Bearer realm="coverage-connector"');
      return json(res, 401, { error: 'unauthorized: send Authorization: Bearer <HTTP_AUTH_TOKEN>' });
    }
    if (path.startsWith('/coverages/') && options.reports) {
      const reports = options.reports();
      if (!reports) return json(res, 503, { error: 'starting: coverage reports are served once the connector is registered' });
      const answer = await reports.answer(path.slice('/coverages/'.length));
      if (answer.filename) res.setHeader('content-disposition', `attachment; filename="${answer.filename}"`);
      return send(res, answer.status, answer.contentType, answer.body);
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
      options.log.info({ host: options.host, port, status_auth: options.authToken ? 'bearer token' : 'none' }, 'HTTP endpoint listening (/healthz /readyz /status /metrics)');
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
  worker?: { readonly inFlight: number; health?(): WorkerHealth };
  /** The platform circuit breaker (src/app/platform-breaker.ts). */
  breaker?: { snapshot(): BreakerSnapshot };
  scheduler?: { isLeader(): boolean };
  schedulerEnabled: boolean;
  startedAt: Date;
  /** Coverage report pages (set once registered). */
  reports?: CoverageReportService;
  /** SIEM rule sources (src/app/live-rules.ts): state, rules in force, last success, error. */
  ruleSources?: () => unknown[];
}

export function daemonReadiness(live: DaemonLiveState): Readiness {
  const platform = live.registered === true;
  const broker = live.broker?.connected === true;
  const checks: Readiness['checks'] = {
    platform: { ok: platform, detail: platform ? 'registered' : 'not registered yet' },
    broker: { ok: broker, detail: broker ? 'channel open' : live.broker ? 'disconnected; reconnecting' : 'not connected yet' },
  };
  if (live.breaker) {
    const c = live.breaker.snapshot();
    checks.platform_circuit = {
      ok: c.state === 'closed',
      detail: c.state === 'closed' ? 'closed' : `${c.state}: ${c.cause === 'auth' ? 'OpenCTI rejects OPENCTI_TOKEN' : 'OpenCTI unavailable'}; consumption paused`,
    };
  }
  const health = live.worker?.health?.();
  if (health) {
    const idleFor = Math.round((Date.now() - health.lastProgressAt.getTime()) / 1000);
    checks.jobs = { ok: !health.stalled, detail: health.stalled ? `stalled: ${health.running + health.waiting} job(s) held, no progress for ${idleFor} s (past WORKER_JOB_TIMEOUT_MS)` : 'progressing' };
  }
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/** The JSON of GET /status, read by `coverage-connector status` (src/app/operator/operator.ts DaemonStatus). */
export function daemonStatus(live: DaemonLiveState, snapshot: { received: number; succeeded: number; failed: number; deadLettered: number; lastSuccessAt: Date | null }, now: Date): Record<string, unknown> {
  return {
    connector_id: live.connectorId,
    registered: live.registered === true,
    broker_connected: live.broker?.connected === true,
    listen_queue: live.listenQueue ?? null,
    dead_letter_queue: live.deadLetterQueue ?? null,
    in_flight: live.worker?.inFlight ?? 0,
    ...platformCircuitStatus(live),
    scheduler: { enabled: live.schedulerEnabled, leader: live.scheduler ? live.scheduler.isLeader() : live.schedulerEnabled ? null : false },
    last_success: snapshot.lastSuccessAt ? snapshot.lastSuccessAt.toISOString() : null,
    counters: { received: snapshot.received, succeeded: snapshot.succeeded, failed: snapshot.failed, dead_lettered: snapshot.deadLettered },
    started_at: live.startedAt.toISOString(),
    uptime_seconds: Math.round((now.getTime() - live.startedAt.getTime()) / 1000),
    ...(live.ruleSources ? { rule_sources: live.ruleSources() } : {}),
  };
}

/** The circuit and the worker's holdings in /status (absent before the daemon runs). */
function platformCircuitStatus(live: DaemonLiveState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (live.breaker) {
    const c = live.breaker.snapshot();
    out.platform_circuit = {
      state: c.state,
      cause: c.cause,
      code: c.code,
      reason: c.state === 'closed' ? null : c.reason,
      opened_at: c.openedAt ? c.openedAt.toISOString() : null,
      next_probe_at: c.nextProbeAt ? c.nextProbeAt.toISOString() : null,
      failed_probes: c.failedProbes,
      trips: c.trips,
    };
  }
  const h = live.worker?.health?.();
  if (h) out.jobs = { running: h.running, waiting: h.waiting, retrying: h.retrying, paused: h.paused, stalled: h.stalled, last_progress: h.lastProgressAt.toISOString(), pending_work_closures: h.pendingWorkClosures };
  return out;
}
