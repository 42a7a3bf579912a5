import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, describeOptions, maskConfig, assertDaemonConfig } from '../../src/app/config';
import { ConfigError } from '../../src/errors';

describe('configuration', () => {
  it('applies defaults when nothing is set', () => {
    const c = loadConfig({ env: {}, file: undefined });
    expect(c.connector.scope).toEqual(['security-coverage']);
    expect(c.worker.concurrency).toBe(4);
    expect(c.assessor.backends).toEqual(['embedded']);
  });

  it('maps SECTION_KEY env variables onto section.key, with types coerced', () => {
    const c = loadConfig({ env: { CONNECTOR_SCOPE: 'security-coverage, report', WORKER_CONCURRENCY: '8', CONNECTOR_AUTO: 'false', ASSESSOR: 'openaev,embedded' } });
    expect(c.connector.scope).toEqual(['security-coverage', 'report']);
    expect(c.worker.concurrency).toBe(8);
    expect(c.connector.auto).toBe(false);
    expect(c.assessor.backends).toEqual(['openaev', 'embedded']);
  });

  it('names the variable and the problem for each bad value', () => {
    expect(() => loadConfig({ env: { CONNECTOR_ID: 'nope', WORKER_CONCURRENCY: 'x' } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { CONNECTOR_ID: 'nope', WORKER_CONCURRENCY: 'x' } });
    } catch (err) {
      expect(String((err as Error).message)).toMatch(/CONNECTOR_ID \(connector\.id\): expected a UUID/);
      expect(String((err as Error).message)).toMatch(/WORKER_CONCURRENCY \(worker\.concurrency\): expected an integer/);
    }
  });

  it('requires the platform settings only for the daemon', () => {
    const c = loadConfig({ env: {} });
    expect(() => assertDaemonConfig(c)).toThrow(/OPENCTI_URL.*OPENCTI_TOKEN.*CONNECTOR_ID/);
  });

  it('masks every secret option in dumps', () => {
    const c = loadConfig({ env: { OPENCTI_TOKEN: 'super-secret-token', MQ_PASS: 'hunter2' } });
    const dump = JSON.stringify(maskConfig(c));
    expect(dump).not.toContain('super-secret-token');
    expect(dump).not.toContain('hunter2');
    expect(describeOptions().filter((o) => o.secret).map((o) => o.env)).toEqual(expect.arrayContaining(['OPENCTI_TOKEN', 'MQ_PASS']));
  });
});

describe('configuration checks at start, each naming the variable', () => {
  const messageOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };
  const daemonEnv = { OPENCTI_URL: 'http://opencti:8080', OPENCTI_TOKEN: 'tok-config-test', CONNECTOR_ID: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11' };

  it.each([
    [{ OPENCTI_URL: 'ftp://opencti.example.org' }, /OPENCTI_URL \(opencti\.url\): expected an http:\/\/ or https:\/\/ URL/],
    [{ MQ_URL: 'http://rabbitmq:5672' }, /MQ_URL \(mq\.url\): expected an amqp:\/\/ or amqps:\/\/ URL/],
    [{ MQ_URL: 'amqp://user:hunter2@rabbitmq:notaport/' }, /MQ_URL \(mq\.url\): expected an amqp:\/\/ or amqps:\/\/ URL .*port 1-65535/],
    [{ OPENAEV_URL: 'file:///etc/passwd' }, /OPENAEV_URL \(openaev\.url\): expected an http/],
    [{ WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY \(worker\.concurrency\): expected an integer from 1 to 256, got 0/],
    [{ HTTP_PORT: '99999' }, /HTTP_PORT \(http\.port\): expected an integer from 0 to 65535, got 99999/],
    [{ MQ_PORT: '0' }, /MQ_PORT \(mq\.port\): expected an integer from 1 to 65535, got 0/],
  ])('refuses %o', (env, expected) => {
    const message = messageOf(() => loadConfig({ env }));
    expect(message).toMatch(expected);
    expect(message).not.toContain('hunter2');
  });

  it('checks that the CA files are readable PEM certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coverage-ca-'));
    try {
      const notPem = join(dir, 'ca.txt');
      writeFileSync(notPem, 'hello');
      const message = messageOf(() => assertDaemonConfig(loadConfig({ env: { ...daemonEnv, OPENCTI_CA_FILE: join(dir, 'missing.pem'), MQ_CA_FILE: notPem } })));
      expect(message).toMatch(/OPENCTI_CA_FILE \(opencti\.ca_file\): cannot read .*missing\.pem: ENOENT/);
      expect(message).toMatch(/MQ_CA_FILE \(mq\.ca_file\): .*ca\.txt holds no PEM certificate/);
      const pem = join(dir, 'ca.pem');
      writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(() => assertDaemonConfig(loadConfig({ env: { ...daemonEnv, OPENCTI_CA_FILE: pem } }))).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('binds the HTTP endpoint to loopback by default', () => {
    expect(loadConfig({ env: {} }).http).toMatchObject({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ env: {} }).http.auth_token).toBeUndefined();
  });
});
