import { Pool, type PoolClient } from 'pg';
import type { HistoryStore } from '../../domain/history/history-ports';
import { redactUrl } from '../amqp/connection-url';
import { createSqlHistoryStore, ENSURE_STATE_SQL, schemaStatements, type SqlDialect, type SqlExec, type SqlHistoryOptions } from './sql-history-store';

/**
 * The shared history store: one PostgreSQL database that every replica writes to and reads from.
 * Appends of one coverage are serialised across replicas by a row lock on its state row
 * (SELECT … FOR UPDATE); tables are created on first use under an advisory lock, so replicas
 * starting together do not race. A database that is down fails the append (the run itself goes on)
 * and the next append reconnects.
 */

export interface PostgresHistoryOptions extends SqlHistoryOptions {
  /** Schema holding the tables (created when missing); default: the connection's search_path. */
  schema?: string;
  /** Connections kept open (default 4). */
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** Any fixed number: the advisory lock that serialises table creation across replicas. */
const MIGRATION_LOCK = 7_246_013_518;

/** `?` placeholders → `$1…$n` (the statements hold no literal question mark). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid history schema name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const execOn = (client: Pool | PoolClient): SqlExec => ({
  all: async <R>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as R[],
  run: async (sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rowCount ?? 0,
});

export function createPostgresHistoryStore(url: string, options: PostgresHistoryOptions): HistoryStore {
  const where = redactUrl(url);
  const schema = options.schema ? quoteIdent(options.schema) : undefined;
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  let ready: Promise<void> | undefined;
  const migrate = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      for (const sql of schemaStatements('BIGSERIAL PRIMARY KEY', 'BYTEA')) await client.query(sql);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };
  const connected = async (): Promise<void> => {
    ready ??= migrate().catch((err: unknown) => {
      ready = undefined;
      throw new Error(`history database ${where} (HISTORY_URL) is not usable: ${(err as Error).message}`, { cause: err });
    });
    return ready;
  };

  const poolExec = execOn(pool);
  let closing: Promise<void> | undefined;
  const dialect: SqlDialect = {
    description: where,
    exec: {
      all: async (sql, params) => (await connected(), poolExec.all(sql, params)),
      run: async (sql, params) => (await connected(), poolExec.run(sql, params)),
    },
    async transaction(coverageId, fn) {
      await connected();
      const client = await pool.connect();
      const tx = execOn(client);
      try {
        await client.query('BEGIN');
        await tx.run(ENSURE_STATE_SQL, [coverageId, Date.now()]);
        await tx.all('SELECT coverage_id FROM coverage_history_state WHERE coverage_id = ? FOR UPDATE', [coverageId]);
        const out = await fn(tx);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => (closing ??= pool.end()),
  };
  return createSqlHistoryStore(dialect, options);
}
