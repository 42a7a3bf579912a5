import { createGraphQLClient, probePlatform, type CallGate } from '../../src/adapters/opencti/graphql-client';
import { PlatformSettingError } from '../../src/errors';
import { FakeOpenCti } from '../support/fake-opencti/server';

/**
 * The GraphQL client against the stand-in platform's injected failures: the deadline is absolute
 * (an answer trickling a byte at a time is cut), transient GraphQL errors in a 200 body are
 * retryable, errors name the setting to fix and never carry the token, and the circuit breaker's
 * gate sees every call.
 */

const TOKEN = 'tok-9c1e-SECRET-resilience';
const QUERY = 'query CoverageProbe { __typename }';

describe('GraphQL client under platform faults', () => {
  let fake: FakeOpenCti;
  beforeEach(async () => {
    fake = await new FakeOpenCti({ amqpUrl: 'amqp://guest:guest@127.0.0.1:5672', token: TOKEN }).start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('cuts an answer that trickles one byte at a time at the absolute deadline', async () => {
    const gql = createGraphQLClient({ url: fake.url, token: TOKEN, timeoutMs: 400 });
    fake.fail({ kind: 'trickle', delayMs: 20, times: 1 });
    const started = Date.now();
    const err = await gql.request(QUERY).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    gql.close();
    expect(err).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: expect.stringContaining('no complete answer within 400 ms (OPENCTI_TIMEOUT_MS)') });
    // Bytes kept arriving every 20 ms: an idle timeout would never have fired.
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3000);
  });

  it('maps a transient GraphQL error in a 200 body (INTERNAL_SERVER_ERROR) to a retryable PLATFORM_UNAVAILABLE', async () => {
    const gql = createGraphQLClient({ url: fake.url, token: TOKEN, timeoutMs: 15000 });
    fake.fail({ kind: 'graphql-transient', times: 1 });
    await expect(gql.request(QUERY)).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', retryable: true, message: expect.stringContaining('INTERNAL_SERVER_ERROR') });
    await expect(gql.request(QUERY)).resolves.toEqual({ __typename: 'Query' });
    gql.close();
  });

  it('never puts the token in an error, even when the platform echoes the request headers', async () => {
    const gql = createGraphQLClient({ url: fake.url, token: TOKEN, timeoutMs: 15000 });
    fake.fail({ kind: 'echo-headers', times: 1, message: 'Registration refused' });
    const err = (await gql.request(QUERY).catch((e: unknown) => e)) as Error & { cause?: unknown };
    gql.close();
    expect(err.message).toContain('authorization=Bearer [Redacted]');
    expect(err.message).not.toContain(TOKEN);
    expect(String(err.stack)).not.toContain(TOKEN);
    expect(JSON.stringify(err.cause)).not.toContain(TOKEN);
  });

  it('names OPENCTI_TOKEN when the platform rejects the token, and OPENCTI_URL when the URL answers HTML', async () => {
    const wrong = createGraphQLClient({ url: fake.url, token: 'not-the-token', timeoutMs: 15000 });
    await expect(wrong.request(QUERY)).rejects.toMatchObject({ code: 'PLATFORM_AUTH', message: expect.stringContaining('check OPENCTI_TOKEN') });
    wrong.close();
    const gql = createGraphQLClient({ url: fake.url, token: TOKEN, timeoutMs: 15000 });
    fake.fail({ kind: 'malformed', times: 1 });
    const err = await gql.request(QUERY).catch((e: unknown) => e);
    gql.close();
    expect(err).toBeInstanceOf(PlatformSettingError);
    expect(err).toMatchObject({ setting: 'OPENCTI_URL', message: expect.stringMatching(/answered HTTP 200 with an HTML page, not GraphQL JSON: check OPENCTI_URL/) });
  });

  it('lets the gate refuse calls, and tells it how each admitted call ended (not caller aborts)', async () => {
    const seen: Array<{ error: string | null; probe: boolean }> = [];
    let refuse = false;
    const gate: CallGate = {
      admit: (operation, probe) => {
        if (refuse && !probe) throw Object.assign(new Error(`${operation} refused`), { code: 'PLATFORM_CIRCUIT_OPEN' });
      },
      settle: (error, probe) => seen.push({ error: error === null ? null : (error as { code: string }).code, probe }),
    };
    const gql = createGraphQLClient({ url: fake.url, token: TOKEN, timeoutMs: 15000, gate });
    await gql.request(QUERY);
    fake.fail({ kind: 'status', status: 503, times: 1 });
    await gql.request(QUERY).catch(() => undefined);
    refuse = true;
    const callsBefore = fake.calls.length;
    await expect(gql.request(QUERY)).rejects.toThrow('CoverageProbe refused');
    expect(fake.calls.length).toBe(callsBefore);
    await probePlatform(gql);
    fake.fail({ kind: 'slow', delayMs: 1000, times: 1 });
    const aborted = new AbortController();
    setTimeout(() => aborted.abort(), 50);
    await expect(probePlatform(gql, aborted.signal)).rejects.toMatchObject({ message: expect.stringContaining('aborted by the caller') });
    gql.close();
    expect(seen).toEqual([
      { error: null, probe: false },
      { error: 'PLATFORM_UNAVAILABLE', probe: false },
      { error: null, probe: true },
    ]);
  });
});
