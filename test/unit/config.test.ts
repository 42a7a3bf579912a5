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
