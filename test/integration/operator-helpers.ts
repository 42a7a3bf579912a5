import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import type { CommandIo } from '../../src/cli/progress';
import { createOpenCtiClient } from '../../src/adapters/opencti';
import type { FakeOpenCti } from '../support/fake-opencti/server';

/** Shared by test/integration/operator-*.test.ts: run an operator command in-process against the fake platform. */

export interface CliRun {
  out: string;
  progress: string;
  exitCode: number | undefined;
  error?: Error;
}

export function envFor(fake: FakeOpenCti, connectorId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    OPENCTI_URL: fake.url,
    OPENCTI_TOKEN: fake.token,
    CONNECTOR_ID: connectorId,
    OPENCTI_TIMEOUT_MS: '15000',
    // No daemon listens there: status must say "unknown (daemon HTTP not reachable)".
    HTTP_PORT: '1',
    ...extra,
  };
}

export async function runCli(register: (program: Command, io: CommandIo) => void, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const program = new Command().exitOverride();
  let out = '';
  let progress = '';
  const progressStream = new PassThrough();
  progressStream.on('data', (c: Buffer) => (progress += c.toString()));
  register(program, { env, write: (t) => (out += t), progressStream });
  const saved = process.exitCode;
  process.exitCode = undefined;
  let error: Error | undefined;
  try {
    await program.parseAsync(['node', 'coverage-connector', ...args]);
  } catch (err) {
    error = err as Error;
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = saved;
  return { out, progress, exitCode, ...(error ? { error } : {}) };
}

/** Registers the connector in the fake platform (which declares its queues) without starting a daemon. */
export async function registerConnector(fake: FakeOpenCti, connectorId: string): Promise<void> {
  const client = createOpenCtiClient({ url: fake.url, token: fake.token, timeoutMs: 15000 });
  try {
    await client.connector.register({ id: connectorId, name: 'Coverage test', scope: ['security-coverage'], auto: true, autoUpdate: true });
  } finally {
    client.close();
  }
}
