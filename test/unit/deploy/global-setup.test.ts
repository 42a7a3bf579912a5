import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The test broker: AMQP_URL when given, a testcontainers RabbitMQ when a container runtime answers,
 * else the default local broker. These machines have no container engine, so the fallback is what
 * runs: it must be quick, say why, and not need testcontainers at all.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const globalSetup = require('../../support/global-setup.js') as {
  (): Promise<void>;
  runtimeHint(): string | undefined;
  DEFAULT_URL: string;
};

const KEYS = ['AMQP_URL', 'BROKER_AVAILABLE', 'REQUIRE_BROKER', 'DOCKER_HOST', 'HOME', 'XDG_RUNTIME_DIR', 'TESTCONTAINERS_DISABLED'];

describe('test broker discovery (global-setup)', () => {
  const saved: Record<string, string | undefined> = {};
  let home: string;
  let stderr: string[];
  let writeSpy: jest.SpyInstance;

  beforeEach(() => {
    for (const k of KEYS) saved[k] = process.env[k];
    home = mkdtempSync(join(tmpdir(), 'gs-home-'));
    process.env.HOME = home;
    process.env.XDG_RUNTIME_DIR = home;
    delete process.env.DOCKER_HOST;
    delete process.env.REQUIRE_BROKER;
    delete process.env.TESTCONTAINERS_DISABLED;
    stderr = [];
    writeSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    writeSpy.mockRestore();
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('without AMQP_URL and without a container runtime, falls back to the default broker and says so', async () => {
    delete process.env.AMQP_URL;
    expect(globalSetup.runtimeHint()).toBeUndefined();
    await globalSetup();
    expect(process.env.AMQP_URL).toBe(globalSetup.DEFAULT_URL);
    expect(['0', '1']).toContain(process.env.BROKER_AVAILABLE);
    expect(stderr.join('')).toMatch(/no AMQP_URL and no container runtime.*using the default broker/);
  });

  it('sees a container runtime from DOCKER_HOST or a socket file', () => {
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:2375';
    expect(globalSetup.runtimeHint()).toBe('DOCKER_HOST=tcp://127.0.0.1:2375');
    delete process.env.DOCKER_HOST;
    const socket = join(home, '.docker/run/docker.sock');
    require('node:fs').mkdirSync(join(home, '.docker/run'), { recursive: true });
    writeFileSync(socket, '');
    expect(globalSetup.runtimeHint()).toBe(socket);
    process.env.TESTCONTAINERS_DISABLED = '1';
    expect(globalSetup.runtimeHint()).toBeUndefined();
  });

  it('keeps a given AMQP_URL, and reports an unreachable one as unavailable (REQUIRE_BROKER=1: an error)', async () => {
    process.env.AMQP_URL = 'amqp://user:secret@127.0.0.1:1';
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    await globalSetup();
    expect(process.env.AMQP_URL).toBe('amqp://user:secret@127.0.0.1:1');
    expect(process.env.BROKER_AVAILABLE).toBe('0');
    expect(stderr.join('')).toMatch(/not reachable at amqp:\/\/\*\*\*@127\.0\.0\.1:1/);
    expect(stderr.join('')).not.toContain('secret');
    expect(stderr.join('')).not.toContain('testcontainers');
    process.env.REQUIRE_BROKER = '1';
    await expect(globalSetup()).rejects.toThrow(/REQUIRE_BROKER=1/);
  });

  it('with a container runtime that does not answer, falls back to the default broker within the probe deadline', async () => {
    delete process.env.AMQP_URL;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    await globalSetup();
    expect(process.env.AMQP_URL).toBe(globalSetup.DEFAULT_URL);
    expect(stderr.join('')).toMatch(/container runtime not usable .*using the default broker/);
  }, 20000);
});
