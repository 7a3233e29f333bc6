import type { Config } from '../config';
import { openDatabase, type Database } from './database';
import { createPostgresStore } from './postgresStore';
import { createSqliteStore } from './sqliteStore';
import type { Store } from './store';

/**
 * The database the configuration names, migrated: PostgreSQL when DATABASE_URL is set, else the
 * SQLite file at DATABASE_PATH (`sqlite` is then its connection). `db` uses a connection already open.
 */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'databasePath' | 'databasePoolMax' | 'synchronous'>,
  options: { db?: Database; onIdleError?: (error: Error) => void } = {},
): Promise<{ store: Store; sqlite: Database | undefined }> {
  const sqlite = options.db ?? (config.databaseUrl ? undefined : openDatabase(config.databasePath, config.synchronous));
  const store = sqlite
    ? createSqliteStore(sqlite)
    : createPostgresStore(config.databaseUrl!, { max: config.databasePoolMax, onIdleError: options.onIdleError });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return { store, sqlite };
}

/** How messages name the database: the SQLite file, or PostgreSQL's host and database (never the password). */
export function databaseName(config: Pick<Config, 'databaseUrl' | 'databasePath'>): string {
  if (!config.databaseUrl) return config.databasePath;
  try {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}
