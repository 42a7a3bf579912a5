import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { projectFile } from './deploy-files';

/** scripts/healthcheck.js, the container's HEALTHCHECK, against a real local HTTP server. */

const PROBE = projectFile('scripts/healthcheck.js');

interface ProbeResult {
  code: number;
  stderr: string;
}

function probe(env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const { HTTP_PORT: _p, HTTP_HOST: _h, HTTP_ENABLED: _e, ...base } = process.env;
    execFile(process.execPath, [PROBE], { env: { ...base, ...env } }, (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

function serve(status: number, seen: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.statusCode = status;
    res.end(status === 200 ? 'ok' : 'not ready');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (server: Server): string => String((server.address() as AddressInfo).port);
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('container health probe', () => {
  it('exits 0 when /healthz answers 200, probing loopback for a wildcard listen address', async () => {
    const seen: string[] = [];
    const server = await serve(200, seen);
    try {
      const result = await probe({ HTTP_PORT: portOf(server), HTTP_HOST: '0.0.0.0' });
      expect(result.code).toBe(0);
      expect(seen).toEqual(['GET /healthz']);
    } finally {
      await close(server);
    }
  });

  it('exits 1 when /healthz answers an error status', async () => {
    const server = await serve(503, []);
    try {
      const result = await probe({ HTTP_PORT: portOf(server) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('503');
    } finally {
      await close(server);
    }
  });

  it('exits 1 when nothing listens on the port', async () => {
    const server = await serve(200, []);
    const port = portOf(server);
    await close(server);
    const result = await probe({ HTTP_PORT: port });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unreachable');
  });

  it('exits 1 and says why when the HTTP endpoint is disabled', async () => {
    const result = await probe({ HTTP_ENABLED: 'false' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HTTP_ENABLED');
  });

  it('probes a specific listen address as configured', async () => {
    const seen: string[] = [];
    const server = await serve(200, seen);
    try {
      expect((await probe({ HTTP_PORT: portOf(server), HTTP_HOST: '127.0.0.1' })).code).toBe(0);
      expect(seen).toHaveLength(1);
    } finally {
      await close(server);
    }
  });
});
