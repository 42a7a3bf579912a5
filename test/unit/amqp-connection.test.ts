import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amqpConnectOptions } from '../../src/adapters/amqp/connection';
import { ConfigError } from '../../src/errors';
import { PROJECT_DIR } from '../support/env';

/** One AMQP connection setup: the broker, the leader lock and the queue admin get TLS the same way. */
describe('AMQP connection setup', () => {
  it('verifies certificates by default, trusts MQ_CA_FILE, and turns verification off only when asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amqp-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(amqpConnectOptions({})).toEqual({ timeout: 10_000 });
      expect(amqpConnectOptions({ caFile, heartbeatSeconds: 30, timeoutMs: 5000 })).toEqual({ ca: [readFileSync(caFile)], timeout: 5000, heartbeat: 30 });
      expect(amqpConnectOptions({ sslVerify: false })).toMatchObject({ rejectUnauthorized: false });
      expect(amqpConnectOptions({ sslVerify: true })).not.toHaveProperty('rejectUnauthorized');
      expect(() => amqpConnectOptions({ caFile: join(dir, 'missing.pem') })).toThrow(ConfigError);
      expect(() => amqpConnectOptions({ caFile: join(dir, 'missing.pem') })).toThrow(/MQ_CA_FILE.*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is the only place under src/ that calls amqplib connect', () => {
    const dir = join(PROJECT_DIR, 'src/adapters/amqp');
    const callers = readdirSync(dir).filter((f) => /\bconnect\(\s*options\.url|amqp\.connect\(|amqpConnect\(/.test(readFileSync(join(dir, f), 'utf8')));
    // broker.ts adds amqplib's recovery on top of the shared options.
    expect(callers.sort()).toEqual(['broker.ts', 'connection.ts']);
    expect(readFileSync(join(dir, 'broker.ts'), 'utf8')).toMatch(/amqpConnectOptions\(options\)/);
    for (const f of ['leader-lock.ts', 'dlq-admin.ts']) expect(readFileSync(join(dir, f), 'utf8')).toMatch(/connectAmqp\(/);
  });
});
