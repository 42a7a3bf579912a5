import { Writable } from 'node:stream';
import { createBroker } from '../../../src/adapters/amqp/broker';
import { createGraphQLClient } from '../../../src/adapters/opencti/graphql-client';
import { createLogger } from '../../../src/app/logger';
import { AMQP_URL, describeWhen, describeWithBroker } from '../../support/env';
import { createHarness, type Harness } from '../../support/fake-opencti/harness';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import { createTestCa, hasOpenssl, OPENSSL_SKIP_REASON, type TestCa } from '../../support/tls-ca';

/**
 * TLS to the platform and to the broker, with a CA the test creates: a certificate signed by an
 * unknown CA is refused by default, accepted with the CA file (OPENCTI_CA_FILE / MQ_CA_FILE), and
 * accepted with verification off only with a warning in the log. TLS is terminated by a loopback
 * proxy in front of the fake platform and in front of the real (plain) RabbitMQ.
 */

function memoryLog(): { log: ReturnType<typeof createLogger>; stream: Writable; text: () => string; waitFor: (re: RegExp) => Promise<void> } {
  const chunks: string[] = [];
  const waiters = new Set<() => void>();
  const stream = new Writable({
    write(chunk, _e, done) {
      chunks.push(chunk.toString());
      for (const w of [...waiters]) w();
      done();
    },
  });
  return {
    log: createLogger('debug', stream),
    stream,
    text: () => chunks.join(''),
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!re.test(chunks.join(''))) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`no log line matching ${re}`)), 10000);
        waiters.add(check);
        check();
      }),
  };
}

const withOpenssl = describeWhen(hasOpenssl(), OPENSSL_SKIP_REASON);

withOpenssl('TLS with a private CA', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = createTestCa();
  });
  afterAll(() => ca.cleanup());

  describe('platform (GraphQL over HTTPS)', () => {
    let h: Harness;
    let proxy: TcpProxy;
    let httpsUrl: string;
    beforeAll(async () => {
      // The fake platform does not need the broker for these calls; only its HTTP side is used here.
      h = await createHarness();
      proxy = await startTcpProxy({ targetPort: Number(new URL(h.fake.url).port), tls: { key: ca.serverKey, cert: ca.serverCert } });
      httpsUrl = `https://127.0.0.1:${proxy.port}`;
    });
    afterAll(async () => {
      await proxy.close();
      await h.close();
    });

    const ping = 'query Ping { __typename }';

    it('refuses a certificate signed by an unknown CA by default', async () => {
      const client = createGraphQLClient({ url: httpsUrl, token: h.fake.token, timeoutMs: 3000 });
      await expect(client.request(ping)).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: expect.stringMatching(/certificate|self.signed|issuer/i) });
      client.close();
    });

    it('accepts it with the CA file (OPENCTI_CA_FILE)', async () => {
      const client = createGraphQLClient({ url: httpsUrl, token: h.fake.token, timeoutMs: 3000, caFile: ca.caFile });
      await expect(client.request(ping)).resolves.toEqual({ __typename: 'Query' });
      client.close();
    });

    it('accepts it with verification off (OPENCTI_SSL_VERIFY=false)', async () => {
      const client = createGraphQLClient({ url: httpsUrl, token: h.fake.token, timeoutMs: 3000, sslVerify: false });
      await expect(client.request(ping)).resolves.toEqual({ __typename: 'Query' });
      client.close();
    });
  });

  describeWithBroker('daemon over TLS (platform and broker)', () => {
    let h: Harness;
    let platformTls: TcpProxy;
    let brokerTls: TcpProxy;
    beforeEach(async () => {
      h = await createHarness();
      platformTls = await startTcpProxy({ targetPort: Number(new URL(h.fake.url).port), tls: { key: ca.serverKey, cert: ca.serverCert } });
      brokerTls = await startTcpProxy({ targetPort: Number(new URL(AMQP_URL).port || 5672), tls: { key: ca.serverKey, cert: ca.serverCert } });
    });
    afterEach(async () => {
      await h.close();
      await platformTls.close();
      await brokerTls.close();
    });

    const amqpsUrl = (): string => {
      const u = new URL(AMQP_URL);
      return `amqps://${u.username}:${u.password}@127.0.0.1:${brokerTls.port}/`;
    };

    it('registers and consumes over TLS with both CA files, and processes a request', async () => {
      const { coverage } = h.reportCoverage(['T1059']);
      const mem = memoryLog();
      await h.start({
        config: {
          opencti: { url: `https://127.0.0.1:${platformTls.port}`, ca_file: ca.caFile },
          mq: { url: amqpsUrl(), ca_file: ca.caFile },
        },
        daemon: { log: mem.log },
      });
      const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
      await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 15000, 'the work over TLS');
      expect(brokerTls.accepted).toBeGreaterThanOrEqual(1);
      expect(mem.text()).not.toMatch(/SSL_VERIFY=false/);
    }, 30000);

    it('starts with verification off only with a warning naming each opt-out', async () => {
      const mem = memoryLog();
      await h.start({
        config: { opencti: { url: `https://127.0.0.1:${platformTls.port}`, ssl_verify: false }, mq: { url: amqpsUrl(), ssl_verify: false } },
        daemon: { log: mem.log },
      });
      const warnings = mem
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level === 40);
      expect(warnings.map((w) => w.msg)).toEqual(expect.arrayContaining([expect.stringMatching(/OPENCTI_SSL_VERIFY=false.*NOT verified/), expect.stringMatching(/MQ_SSL_VERIFY=false.*NOT verified/)]));
    }, 30000);

    it('does not register with a platform whose certificate it cannot verify (stops at startup naming OPENCTI_CA_FILE)', async () => {
      const mem = memoryLog();
      const startup = new AbortController();
      const started = h
        .start({ config: { opencti: { url: `https://127.0.0.1:${platformTls.port}` } }, daemon: { log: mem.log, signal: startup.signal } })
        .catch((e: unknown) => e as Error);
      // Waiting will not fix a setting: the daemon stops as a configuration error instead of retrying.
      const err = (await Promise.race([started, new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('still starting after 15 s')), 15000).unref())])) as Error;
      startup.abort();
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(err.message).toMatch(/OPENCTI_CA_FILE/);
      expect(err.message).toMatch(/certificate|issuer/i);
      expect(h.fake.callsOf('RegisterConnector')).toHaveLength(0);
    }, 30000);

    it('does not connect to a broker whose certificate it cannot verify, and connects with MQ_CA_FILE', async () => {
      const admin = await (await import('amqplib')).connect(AMQP_URL);
      const ch = await admin.createChannel();
      const listen = `${h.dlq}.tls-listen`;
      await ch.assertQueue(listen, { durable: false });
      const refused = memoryLog();
      const strict = createBroker({ url: amqpsUrl(), listenQueue: listen, deadLetterQueue: `${h.dlq}.tls`, prefetch: 1, log: refused.log, reconnect: { initialDelay: 50, maxDelay: 100 } });
      const pending = strict.start(() => undefined).catch((e: unknown) => e as Error);
      await refused.waitFor(/broker connection attempt failed/);
      expect(strict.connected).toBe(false);
      await strict.close();
      await pending;
      expect(refused.text()).toMatch(/certificate|issuer/i);

      const trusted = memoryLog();
      const ok = createBroker({ url: amqpsUrl(), listenQueue: listen, deadLetterQueue: `${h.dlq}.tls`, prefetch: 1, log: trusted.log, caFile: ca.caFile });
      const started = ok.start(() => undefined).catch((e: unknown) => e as Error);
      await trusted.waitFor(/connected to the broker/);
      expect(ok.connected).toBe(true);
      await ok.close();
      await started;
      await ch.deleteQueue(`${h.dlq}.tls`);
      await ch.deleteQueue(listen);
      await admin.close();
    }, 30000);
  });
});
