import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import amqp from 'amqplib';

/** What the figures were measured on (printed with every run and kept in bench/RESULTS.md). */
export interface Machine {
  nproc: number;
  cpu: string;
  memoryGb: number;
  node: string;
  os: string;
  broker: string;
  amqplib: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAvg1: number;
}

async function brokerVersion(url: string): Promise<string> {
  try {
    const conn = await amqp.connect(url, { timeout: 3000 });
    const props = (conn.connection as unknown as { serverProperties?: Record<string, unknown> }).serverProperties ?? {};
    await conn.close();
    return `${String(props.product ?? 'AMQP broker')} ${String(props.version ?? '?')}`;
  } catch (err) {
    return `unreachable (${err instanceof Error ? err.message : String(err)})`;
  }
}

export async function describeMachine(amqpUrl: string): Promise<Machine> {
  // amqplib's "exports" hide its package.json: read it beside the resolved entry point.
  const amqplibVersion = (JSON.parse(readFileSync(join(dirname(require.resolve('amqplib')), 'package.json'), 'utf8')) as { version: string }).version;
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    broker: await brokerVersion(amqpUrl),
    amqplib: amqplibVersion,
    loadAvg1: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
