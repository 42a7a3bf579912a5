import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGraphQLClient } from '../../src/adapters/opencti/graphql-client';
import { describeWhen } from '../support/env';
import { hasOpenssl, OPENSSL_SKIP_REASON } from '../support/tls-ca';

/** TLS to the platform: verified by default, a private CA can be trusted, opting out is explicit. */

describeWhen(hasOpenssl(), OPENSSL_SKIP_REASON)('OpenCTI client TLS', () => {
  let dir: string;
  let server: https.Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coverage-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed certificate by default', async () => {
    const client = createGraphQLClient({ url, token: 't', timeoutMs: 2000 });
    await expect(client.request('query Ok { ok }')).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: expect.stringMatching(/self.signed|certificate/i) });
    client.close();
  });

  it('trusts the certificate when its CA file is configured', async () => {
    const client = createGraphQLClient({ url, token: 't', timeoutMs: 2000, caFile: join(dir, 'cert.pem') });
    await expect(client.request('query Ok { ok }')).resolves.toEqual({ ok: true });
    client.close();
  });

  it('accepts it only with the explicit opt-out', async () => {
    const client = createGraphQLClient({ url, token: 't', timeoutMs: 2000, sslVerify: false });
    await expect(client.request('query Ok { ok }')).resolves.toEqual({ ok: true });
    client.close();
  });
});
