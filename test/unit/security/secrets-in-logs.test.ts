import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createBroker } from '../../../src/adapters/amqp/broker';
import { loadConfig, parseConfig, secretValues } from '../../../src/app/config';
import { createLogger } from '../../../src/app/logger';
import { startDaemon } from '../../../src/app/main';
import { buildProgram } from '../../../src/cli';
import { AMQP_URL, describeWithBroker } from '../../support/env';
import { createHarness, type Harness } from '../../support/fake-opencti/harness';

/**
 * Tokens and passwords never reach the logs (nor error messages, nor `config show`), on every error
 * path: bad config, platform 401, broker auth failure, a GraphQL error echoing the request, the
 * dead-letter path. pino writes to an in-memory sink and every line is scanned for the secrets.
 */

const TOKEN = 'tok-3f1c9a7e-SECRET-opencti';
const MQ_PASSWORD = 'mq-pa$$w0rd"SECRET/with:chars';
const OPENAEV_TOKEN = 'oaev-SECRET-7d2e';
const SIEM_PASSWORD = 'siem-SECRET-pw';

interface Sink {
  stream: Writable;
  text: () => string;
  lines: () => Array<Record<string, unknown>>;
  /** Resolves when a written line matches (signalled by the write itself, no polling). */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
}

function sink(): Sink {
  const chunks: string[] = [];
  const waiters = new Set<() => void>();
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      for (const w of [...waiters]) w();
      done();
    },
  });
  return {
    stream,
    waitFor: (pattern, timeoutMs = 10000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(chunks.join(''))) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line matching ${pattern} after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Every form a secret can take in a line: raw, JSON-escaped, URL-encoded. */
function expectClean(text: string, secrets: string[]): void {
  for (const s of secrets) {
    for (const form of [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]) expect(text).not.toContain(form);
  }
}

describe('secrets in logs, errors and config dumps', () => {
  it('scrubs configured secrets from messages, error causes and nested fields in every encoding', () => {
    const out = sink();
    const log = createLogger('debug', out.stream, { secrets: [TOKEN, MQ_PASSWORD, '', undefined] });
    log.error({ err: new Error(`GraphQL: invalid token ${TOKEN}`, { cause: new Error(`upstream said Bearer ${TOKEN}`) }) }, 'call failed');
    log.warn({ url: `amqp://user:${encodeURIComponent(MQ_PASSWORD)}@host/` }, `could not connect with ${MQ_PASSWORD}`);
    log.info({ request: { headers: { authorization: `Bearer ${TOKEN}` } }, body: JSON.stringify({ token: TOKEN }) }, 'echo');
    expectClean(out.text(), [TOKEN, MQ_PASSWORD]);
    expect(out.text().match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
    expect(out.lines()).toHaveLength(3); // still valid JSON lines
  });

  it('lists every secret-marked option of the schema, and the password inside MQ_URL', () => {
    const config = parseConfig({
      opencti: { token: TOKEN },
      mq: { pass: MQ_PASSWORD, url: `amqp://u:${encodeURIComponent('url-SECRET-pw')}@h:5672/%2F` },
      openaev: { token: OPENAEV_TOKEN },
      siem: { password: SIEM_PASSWORD, api_key: 'siem-key-SECRET' },
    });
    expect(secretValues(config)).toEqual(expect.arrayContaining([TOKEN, MQ_PASSWORD, OPENAEV_TOKEN, SIEM_PASSWORD, 'siem-key-SECRET', 'url-SECRET-pw']));
  });

  describe('bad configuration', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'coverage-secrets-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('does not echo the token when config.yml is broken on the token line', () => {
      const file = join(dir, 'broken.yml');
      writeFileSync(file, `opencti:\n  url: http://opencti:8080\n  token: ${TOKEN}: oops\n`);
      expect(() => loadConfig({ env: {}, file })).toThrow(/not valid YAML/);
      try {
        loadConfig({ env: {}, file });
      } catch (err) {
        expectClean(String((err as Error).message), [TOKEN]);
      }
    });

    it('names the bad variables without their secret neighbours when startup refuses the config', async () => {
      const out = sink();
      const env = { OPENCTI_URL: 'http://127.0.0.1:9', OPENCTI_TOKEN: TOKEN, MQ_PASS: MQ_PASSWORD, CONNECTOR_ID: 'not-a-uuid', WORKER_CONCURRENCY: 'many' };
      const failure = (await startDaemon({ env, logDestination: out.stream }).then(() => undefined, (e: unknown) => e)) as Error;
      expect(failure).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(failure.message).toMatch(/CONNECTOR_ID/);
      expect(failure.message).toMatch(/WORKER_CONCURRENCY/);
      expectClean(failure.message + out.text(), [TOKEN, MQ_PASSWORD]);
    });

    it('masks every secret in `coverage-connector config show`', async () => {
      const file = join(dir, 'config.yml');
      writeFileSync(file, `opencti:\n  url: http://opencti:8080\n  token: ${TOKEN}\nopenaev:\n  token: ${OPENAEV_TOKEN}\n`);
      const saved = { ...process.env };
      const written: string[] = [];
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(chunk.toString());
        return true;
      });
      try {
        Object.assign(process.env, { CONFIG_FILE: file, MQ_PASS: MQ_PASSWORD, MQ_URL: `amqp://u:${encodeURIComponent(MQ_PASSWORD)}@h:5672/%2F`, SIEM_PASSWORD });
        await buildProgram().exitOverride().parseAsync(['node', 'coverage-connector', 'config', 'show']);
      } finally {
        spy.mockRestore();
        process.env = saved;
      }
      const shown = written.join('');
      expect(shown).toMatch(/url: http:\/\/opencti:8080/); // not everything is hidden
      expect(shown.match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
      expectClean(shown, [TOKEN, MQ_PASSWORD, OPENAEV_TOKEN, SIEM_PASSWORD]);
    });
  });

  describeWithBroker('daemon error paths (fake platform, real broker)', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('keeps the token out of the logs when the platform answers 401 at registration', async () => {
      const out = sink();
      const failure = (await h
        .start({ config: { opencti: { token: TOKEN }, connector: { log_level: 'debug' } }, daemon: { log: undefined, logDestination: out.stream } })
        .then(() => undefined, (e: unknown) => e)) as Error;
      expect(failure).toMatchObject({ code: 'PLATFORM_AUTH' });
      expectClean(`${failure.message}\n${out.text()}`, [TOKEN]);
    });

    it('keeps the token out of the logs when a GraphQL error echoes the request, up to the dead-letter', async () => {
      const out = sink();
      const { coverage } = h.reportCoverage(['T1059']);
      const token = h.fake.token;
      await h.start({ config: { connector: { log_level: 'debug' } }, daemon: { log: undefined, logDestination: out.stream } });
      // A platform (or a proxy) that puts the request, headers included, in its error message.
      h.fake.fail({ kind: 'graphql-error', times: 10, operations: ['StixBundlePush'], message: `Invalid bundle in request {"headers":{"authorization":"Bearer ${token}"},"token":"${token}"}` });
      await h.fake.publishEnrichment(h.connectorId, coverage);
      const [dead] = await h.takeMessages(h.dlq, 1);
      expect(dead.properties.headers?.['x-error-code']).toBe('PLATFORM_REJECTED');
      const lines = out.lines();
      expect(lines.some((l) => l.msg === 'message dead-lettered' && String(l.reason).includes('[Redacted]'))).toBe(true);
      expectClean(out.text(), [token]);
    });

    it('keeps the token out of the logs when it is rotated and every call answers 401 mid-job (circuit opens, nothing dead-lettered)', async () => {
      const out = sink();
      const { coverage } = h.reportCoverage(['T1059']);
      const token = h.fake.token;
      await h.start({ config: { connector: { log_level: 'debug' } }, daemon: { log: undefined, logDestination: out.stream } });
      h.fake.fail({ kind: 'status', status: 401, times: Infinity, operations: ['CoverageState', 'WorkToReceived', 'WorkToProcessed'] });
      await h.fake.publishEnrichment(h.connectorId, coverage);
      await out.waitFor(/circuit open: OpenCTI rejected the token, check OPENCTI_TOKEN/);
      expect(await h.queueDepth(h.dlq)).toBe(0);
      expectClean(out.text(), [token]);
    });

    it('keeps the broker password out of the logs when the broker refuses the login', async () => {
      const out = sink();
      const log = createLogger('debug', out.stream, { secrets: [MQ_PASSWORD] });
      const url = new URL(AMQP_URL);
      url.password = encodeURIComponent(MQ_PASSWORD);
      const broker = createBroker({ url: url.toString(), listenQueue: `listen_${h.connectorId}`, deadLetterQueue: h.dlq, prefetch: 1, log, reconnect: { initialDelay: 50, maxDelay: 100 } });
      const started = broker.start(() => undefined).catch((e: unknown) => e as Error);
      await out.waitFor(/broker connection attempt failed/);
      await broker.close();
      await started;
      expect(out.text()).toMatch(/ACCESS.REFUSED|refused|403/i);
      expectClean(out.text(), [MQ_PASSWORD]);
    });
  });
});
