import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { HistoryStore } from '../../domain/history/history-ports';
import { ConfigError } from '../../errors';
import { createSqlHistoryStore, ENSURE_STATE_SQL, schemaStatements, type SqlDialect, type SqlExec, type SqlHistoryOptions } from './sql-history-store';

/**
 * The embedded history store: one SQLite file (better-sqlite3 12.x), the default for a single
 * replica. WAL mode, so `coverage-connector history` can read while the daemon writes; appends are
 * serialised in-process and take the database's write lock (BEGIN IMMEDIATE) against other processes.
 */

type Database = BetterSqlite3.Database;

function openDatabase(path: string): Database {
  let Driver: typeof BetterSqlite3;
  try {
    // Loaded on use: a missing native build must not break commands that never touch the history.
    Driver = require('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new Error(
      `the embedded history store needs the better-sqlite3 native module, which did not load (${(err as Error).message}); run \`npm rebuild better-sqlite3\`, set HISTORY_URL to a PostgreSQL database, or HISTORY_ENABLED=false`,
      { cause: err },
    );
  }
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Driver(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

export function createSqliteHistoryStore(path: string, options: SqlHistoryOptions): HistoryStore {
  let db: Database;
  try {
    db = openDatabase(path);
    db.exec('BEGIN IMMEDIATE');
    for (const sql of schemaStatements('INTEGER PRIMARY KEY AUTOINCREMENT', 'BLOB')) db.exec(sql);
    db.exec('COMMIT');
  } catch (err) {
    throw new ConfigError(`history store ${path} (HISTORY_SQLITE_PATH) cannot be opened: ${(err as Error).message}`, { cause: err });
  }
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string): BetterSqlite3.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const direct: SqlExec = {
    all: async <R>(sql: string, params: unknown[] = []) => prepared(sql).all(...params) as R[],
    run: async (sql: string, params: unknown[] = []) => prepared(sql).run(...params).changes,
  };
  // SqlExec calls are async, so work of another caller could slip into an open transaction of the
  // single connection: every use goes through one chain.
  let chain: Promise<unknown> = Promise.resolve();
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const dialect: SqlDialect = {
    description: `sqlite:${path}`,
    exec: {
      all: (sql, params) => serialised(() => direct.all(sql, params)),
      run: (sql, params) => serialised(() => direct.run(sql, params)),
    },
    transaction: (coverageId, fn) =>
      serialised(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          await direct.run(ENSURE_STATE_SQL, [coverageId, Date.now()]);
          const out = await fn(direct);
          db.exec('COMMIT');
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: async () => {
      await chain;
      if (db.open) db.close();
    },
  };
  return createSqlHistoryStore(dialect, options);
}
