import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away certificate authority for TLS tests, made with the `openssl` CLI: a CA and a server
 * certificate it signed for 127.0.0.1 / localhost, on P-256 keys (made in milliseconds; RSA-2048 took
 * 0.3 s a key). Suites skip with a reason when openssl is absent.
 */

export interface TestCa {
  dir: string;
  /** PEM of the CA (what OPENCTI_CA_FILE / MQ_CA_FILE point at). */
  caFile: string;
  serverKey: Buffer;
  serverCert: Buffer;
  cleanup(): void;
}

let opensslChecked: boolean | undefined;

export function hasOpenssl(): boolean {
  if (opensslChecked === undefined) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      opensslChecked = true;
    } catch {
      opensslChecked = false;
    }
  }
  return opensslChecked;
}

export const OPENSSL_SKIP_REASON = 'openssl CLI not found: TLS suites skipped (install openssl to run them)';

export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'coverage-test-ca-'));
  const p = (name: string): string => join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Coverage Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext')]);
  return {
    dir,
    caFile: p('ca.pem'),
    serverKey: readFileSync(p('server.key')),
    serverCert: readFileSync(p('server.pem')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
