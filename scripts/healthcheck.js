#!/usr/bin/env node
'use strict';
/**
 * Container health probe (Dockerfile HEALTHCHECK, compose healthcheck): GET /healthz on the connector's
 * own HTTP endpoint; exit 0 on a 2xx answer, 1 otherwise. Plain Node (the image has no curl/wget).
 * Reads the same variables as the connector: HTTP_ENABLED, HTTP_HOST, HTTP_PORT (default 9464).
 */
const enabled = (process.env.HTTP_ENABLED ?? 'true').trim().toLowerCase();
if (['false', '0', 'no', 'off'].includes(enabled)) {
  process.stderr.write('healthcheck: HTTP_ENABLED is off, so /healthz is not served; disable the healthcheck or enable HTTP\n');
  process.exit(1);
}
const port = Number(process.env.HTTP_PORT || 9464);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`healthcheck: HTTP_PORT=${process.env.HTTP_PORT} cannot be probed (0 means a random port)\n`);
  process.exit(1);
}
// A wildcard listen address is probed on loopback; a specific one as is.
const listen = (process.env.HTTP_HOST || '0.0.0.0').trim();
const host = ['0.0.0.0', '::', '[::]', ''].includes(listen) ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);

fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
  .then((res) => {
    if (res.status >= 200 && res.status < 300) process.exit(0);
    process.stderr.write(`healthcheck: /healthz answered ${res.status}\n`);
    process.exit(1);
  })
  .catch((err) => {
    process.stderr.write(`healthcheck: ${host}:${port}/healthz unreachable: ${err && err.message}\n`);
    process.exit(1);
  });
