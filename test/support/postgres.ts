import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describeWhen } from './env';

/**
 * PostgreSQL for the shared history store tests. TEST_POSTGRES_URL (default: the local server, trust
 * auth, database coverage_history_test, created when missing). Probed once per test file, in a child
 * process so the describe can be chosen synchronously. Absent server: the suites are skipped with
 * the reason printed, unless REQUIRE_POSTGRES=1, which fails them.
 */

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/coverage_history_test';

const PROBE = `
const { Client } = require('pg');
const url = process.argv[1];
async function connect(u) { const c = new Client({ connectionString: u, connectionTimeoutMillis: 3000 }); await c.connect(); return c; }
(async () => {
  try {
    const c = await connect(url); await c.query('SELECT 1'); await c.end();
  } catch (err) {
    if (err && err.code === '3D000') {
      const u = new URL(url); const name = u.pathname.slice(1); u.pathname = '/postgres';
      const admin = await connect(u.toString());
      await admin.query('CREATE DATABASE "' + name.replace(/"/g, '') + '"').catch((e) => { if (e.code !== '42P04') throw e; });
      await admin.end();
    } else throw err;
  }
  process.stdout.write('ok');
})().catch((err) => { process.stdout.write(String(err && err.message || err)); process.exitCode = 1; });
`;

function probe(): string | undefined {
  const out = spawnSync(process.execPath, ['-e', PROBE, POSTGRES_URL], { encoding: 'utf8', timeout: 15000, cwd: __dirname });
  if (out.status === 0 && out.stdout === 'ok') return undefined;
  return (out.stdout || out.stderr || out.error?.message || 'probe failed').trim();
}

const problem = probe();
if (problem) {
  const safeUrl = POSTGRES_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  const message = `PostgreSQL is not usable at ${safeUrl}: ${problem}`;
  if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`${message} (REQUIRE_POSTGRES=1)`);
  process.stderr.write(`${message}; PostgreSQL history tests are skipped (set REQUIRE_POSTGRES=1 to fail instead)\n`);
}

export const postgresAvailable = !problem;

/** describe() when PostgreSQL answers; otherwise one skipped test naming the reason, body not run. */
export const describeWithPostgres = describeWhen(postgresAvailable, `PostgreSQL not usable at TEST_POSTGRES_URL (${problem})`);

/** A fresh schema name per suite, so parallel test files and replicas-under-test do not see each other. */
export const uniqueSchema = (prefix = 'history_test'): string => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

/** Drops a test schema (best effort). */
export async function dropSchema(schema: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
