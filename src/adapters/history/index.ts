import type { HistoryStore } from '../../domain/history/history-ports';
import { ConfigError } from '../../errors';
import { createPostgresHistoryStore } from './postgres-history-store';
import { createSqliteHistoryStore } from './sqlite-history-store';

export { createPostgresHistoryStore } from './postgres-history-store';
export { createSqliteHistoryStore } from './sqlite-history-store';

export interface HistoryStoreSettings {
  /** postgres:// or postgresql:// URL of a database every replica shares; absent: the SQLite file. */
  url?: string;
  sqlitePath: string;
  maxRunsPerCoverage: number;
  clock?: () => Date;
}

/** The configured store: PostgreSQL when a URL is set, else the embedded SQLite file. */
export function openHistoryStore(settings: HistoryStoreSettings): HistoryStore {
  const options = { maxRunsPerCoverage: settings.maxRunsPerCoverage, ...(settings.clock ? { clock: settings.clock } : {}) };
  if (settings.url) {
    if (!/^postgres(ql)?:\/\//i.test(settings.url)) throw new ConfigError('HISTORY_URL must be a postgres:// or postgresql:// URL (leave it empty for the embedded SQLite file HISTORY_SQLITE_PATH)');
    return createPostgresHistoryStore(settings.url, options);
  }
  return createSqliteHistoryStore(settings.sqlitePath, options);
}
