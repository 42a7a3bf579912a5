import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startDaemon } from '../../src/app/main';
import { readDaemonStatus } from '../../src/app/operator/operator';
import { describeWithBroker, PROJECT_DIR, TS_REGISTER } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { unusedPort } from '../support/ports';
import { recordFigures } from './fault-results';

/**
 * Startup and the edges of the process: settings that cannot work stop the daemon at once with a
 * line naming the variable (never a retry loop), SIGTERM is honoured while waiting for the broker,
 * no token reaches stdout/stderr on the fatal paths (the CLI's exit line, an uncaught exception),
 * an empty rule inventory refuses to start, and the HTTP endpoint is loopback-only unless told.
 */

const TOKEN_IN_ENV = 'tok-7f3a-SECRET-startup';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A node process running the TypeScript sources (the CLI, or a script), env only. */
function spawnNode(args: string[], env: Record<string, string>, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, ['-r', TS_REGISTER, ...args], {
    cwd: PROJECT_DIR,
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(PROJECT_DIR, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
    onStdout?.(stdout, child);
  });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

const occurrences = (text: string, secret: string): number => text.split(secret).length - 1;
const configFigures: Record<string, unknown> = {};
const figures: Record<string, unknown> = {};

describe('fault: settings that cannot work stop the daemon at once, naming the variable', () => {
  afterAll(() => recordFigures('startup_config', configFigures));
  const base = { OPENCTI_URL: 'http://127.0.0.1:9', OPENCTI_TOKEN: TOKEN_IN_ENV, CONNECTOR_ID: '6f0c3c7e-8a1d-4f7e-9d55-2b4c1e0a9f11', HTTP_ENABLED: 'false', HISTORY_ENABLED: 'false' };

  it.each([
    ['MQ_URL with port notaport', { MQ_URL: 'amqp://guest:guest@127.0.0.1:notaport/' }, /MQ_URL \(mq\.url\): expected an amqp:\/\/ or amqps:\/\/ URL/],
    ['missing OPENCTI_CA_FILE', { OPENCTI_URL: 'https://127.0.0.1:9', OPENCTI_CA_FILE: '/nonexistent/ca.pem' }, /OPENCTI_CA_FILE \(opencti\.ca_file\): cannot read \/nonexistent\/ca\.pem/],
    ['OPENCTI_URL=ftp://…', { OPENCTI_URL: 'ftp://opencti.example.org' }, /OPENCTI_URL \(opencti\.url\): expected an http:\/\/ or https:\/\/ URL/],
    ['WORKER_CONCURRENCY=0', { WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY \(worker\.concurrency\): expected an integer from 1 to 256, got 0/],
    ['HTTP_PORT=99999', { HTTP_PORT: '99999' }, /HTTP_PORT \(http\.port\): expected an integer from 0 to 65535, got 99999/],
  ])('%s', async (name, env, expected) => {
    const started = Date.now();
    const err = (await startDaemon({ env: { ...base, ...env }, processGuards: false, logDestination: new Writable({ write: (_c, _e, done) => done() }) }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code?: string };
    configFigures[name] = { code: err?.code, ms: Date.now() - started, message: err?.message };
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(expected) });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).not.toContain(TOKEN_IN_ENV);
  });
});

describeWithBroker('fault: startup against the stand-in platform', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });
  afterAll(() => recordFigures('startup_platform', figures));

  const failureOf = (p: Promise<unknown>): Promise<Error & { code?: string }> => p.then(() => { throw new Error('expected startup to fail'); }, (e: unknown) => e as Error & { code?: string });

  it('a URL answering an HTML page stops startup naming OPENCTI_URL; a rejected token names OPENCTI_TOKEN', async () => {
    h.fake.fail({ kind: 'malformed', times: Infinity, operations: ['RegisterConnector'] });
    let started = Date.now();
    const html = await failureOf(h.start());
    const htmlMs = Date.now() - started;
    h.fake.clearFailures();
    started = Date.now();
    const token = await failureOf(h.start({ config: { opencti: { token: 'not-the-token' } } }));
    figures['URL answering HTML at startup'] = { code: html.code, ms: htmlMs, message: html.message };
    figures['rejected token at startup'] = { code: token.code, ms: Date.now() - started };
    expect(html).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^OPENCTI_URL: .*answered HTTP 200 with an HTML page, not GraphQL JSON: check OPENCTI_URL/) });
    expect(h.fake.calls.filter((c) => c.operationName === 'RegisterConnector' && c.failed)).toHaveLength(1); // not retried
    expect(token).toMatchObject({ code: 'PLATFORM_AUTH', message: expect.stringContaining('check OPENCTI_TOKEN') });
  });

  it('an empty rule inventory refuses to start naming COVERAGE_RULES_DIRS, unless COVERAGE_ALLOW_EMPTY=true', async () => {
    const missing = ['/nonexistent/sigma', '/nonexistent/elastic'];
    const refused = await failureOf(h.start({ assessor: null, config: { coverage: { rules_dirs: missing } } }));
    figures['every rules folder missing'] = { code: refused.code, message: refused.message };
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/no detection rule loaded from COVERAGE_RULES_DIRS \(\/nonexistent\/sigma, \/nonexistent\/elastic\).*COVERAGE_ALLOW_EMPTY=true/) });
    const daemon = await h.start({ assessor: null, config: { coverage: { rules_dirs: missing, allow_empty: true } } });
    expect(daemon.broker.connected).toBe(true);
  });

  it('binds the HTTP endpoint to 127.0.0.1 by default; HTTP_AUTH_TOKEN protects /status (the status command sends it)', async () => {
    const daemon = await h.start({ config: { http: { enabled: true, port: 0, auth_token: 'http-SECRET-token' } } });
    const base = `http://127.0.0.1:${daemon.httpPort}`;
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const fromOutside = external ? await fetch(`http://${external}:${daemon.httpPort}/healthz`).then((r) => r.status, (e: Error) => (e.cause as { code?: string })?.code ?? e.message) : 'no non-loopback interface';
    const anonymous = (await fetch(`${base}/status`)).status;
    const status = await readDaemonStatus(base, 2000, 'http-SECRET-token');
    figures['HTTP endpoint'] = { bound: '127.0.0.1', from_non_loopback_address: fromOutside, status_without_token: anonymous, status_with_token: 200 };
    if (external) expect(fromOutside).toBe('ECONNREFUSED');
    expect(anonymous).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(status).toMatchObject({ connector_id: h.connectorId, platform_circuit: { state: 'closed' } });
  });

  it('a registration error that echoes the request headers: the error the CLI prints as its exit line, and every log line, carry no token', async () => {
    h.fake.fail({ kind: 'echo-headers', times: Infinity, operations: ['RegisterConnector'], message: 'Registration refused' });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    // The daemon's own logger (secrets known), as under `coverage-connector run`.
    const err = await failureOf(h.start({ config: { connector: { log_level: 'debug' } }, daemon: { log: undefined, logDestination: sink } }));
    // src/cli/index.ts prints `error: <message>` and exits 1.
    const exitLine = `error: ${err.message}`;
    const printed = `${exitLine}\n${String(err.stack)}\n${logs.join('')}`;
    figures['registration error echoing the request headers'] = { code: err.code, exit_line: exitLine.slice(0, 160), token_occurrences: occurrences(printed, h.fake.token) };
    expect(exitLine).toMatch(/Registration refused \(request headers: .*authorization=Bearer \[Redacted\]/);
    expect(occurrences(printed, h.fake.token)).toBe(0);
  });

  it('SIGTERM while waiting for the broker at startup: the process exits within 2 s', async () => {
    const deadPort = await unusedPort(); // nothing listens: the broker never answers
    let signalledAt = 0;
    const run = await spawnNode(
      [join(PROJECT_DIR, 'src/cli/index.ts'), 'run'],
      {
        OPENCTI_URL: h.fake.url,
        OPENCTI_TOKEN: h.fake.token,
        CONNECTOR_ID: h.connectorId,
        HISTORY_ENABLED: 'false',
        COVERAGE_RULES_DIRS: join(PROJECT_DIR, 'config/examples/rules'),
        MQ_URL: `amqp://guest:guest@127.0.0.1:${deadPort}/`,
        HTTP_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
      },
      (stdout, child) => {
        // Let it fail to connect a few times first.
        if (!signalledAt && (stdout.match(/broker connection attempt failed|connecting to the broker/g) ?? []).length >= 2) {
          signalledAt = Date.now();
          setTimeout(() => child.kill('SIGTERM'), 200);
        }
      },
    );
    const exitMs = Date.now() - signalledAt - 200;
    figures['SIGTERM while waiting for the broker'] = { exit_code: run.code, signal: run.signal, exit_after_sigterm_ms: exitMs, exit_line: run.stderr.trim().split('\n').pop() };
    expect(signalledAt).toBeGreaterThan(0);
    expect(run.signal).toBeNull(); // handled, not killed by the default action
    expect(run.stderr).toMatch(/startup cancelled \(signal received while waiting for the broker\)/);
    expect(exitMs).toBeLessThan(2000);
  }, 90000);
});

it('an uncaught exception carrying the token is logged scrubbed through the daemon logger, and the process exits 1', async () => {
  const script = `
    const { createLogger, installProcessGuards } = require('./src/app/logger');
    const token = process.env.OPENCTI_TOKEN;
    const log = createLogger('info', undefined, { secrets: [token] });
    installProcessGuards(log, [token], () => process.exit(1));
    Promise.reject(new Error('rejected with Bearer ' + token));
    setTimeout(() => { throw new Error('boom: upstream said authorization=Bearer ' + token + ' token=' + token); }, 20);
  `;
  const run = await spawnNode(['-e', script], { OPENCTI_TOKEN: TOKEN_IN_ENV });
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message?: string } });
  recordFigures('process_guards', { exit_code: run.code, token_occurrences: occurrences(run.stdout + run.stderr, TOKEN_IN_ENV), lines: lines.map((l) => l.msg) });
  expect(run.code).toBe(1);
  expect(lines.map((l) => l.msg)).toEqual(['unhandled promise rejection', 'uncaught exception; stopping']);
  expect(lines[1].err?.message).toContain('authorization=Bearer [Redacted]');
  expect(occurrences(run.stdout + run.stderr, TOKEN_IN_ENV)).toBe(0);
}, 60000);
