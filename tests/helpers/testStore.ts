import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/db/database';
import { createPostgresStore } from '../../server/db/postgresStore';
import { createSqliteStore } from '../../server/db/sqliteStore';
import type { Store } from '../../server/db/store';

/** The PostgreSQL server the `test:pg` run points at (a database per test file is made on it). */
export const postgresUrl = process.env.TEST_DATABASE_URL;

export interface TestStore {
  store: Store;
  /** Where it lives: a SQLite file, or a PostgreSQL URL. */
  location: string;
  close(): Promise<void>;
}

/**
 * A fresh, migrated store for one test file: a SQLite file in a temporary folder, or, under
 * `npm run test:pg`, a new database on the test PostgreSQL server, dropped again on close.
 */
export async function createTestStore(): Promise<TestStore> {
  if (!postgresUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-store-'));
    const file = path.join(dir, 'test.db');
    const store = createSqliteStore(openDatabase(file));
    await store.migrate();
    return {
      store,
      location: file,
      async close() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await createTestPostgresDatabase();
  const store = createPostgresStore(url, { max: 8 });
  await store.migrate();
  return {
    store,
    location: url,
    async close() {
      await store.close();
      await drop();
    },
  };
}

/** A new, empty database on the test PostgreSQL server (TEST_DATABASE_URL), and how to drop it. */
export async function createTestPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `undersigned_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: postgresUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/**
 * Hands `trace` the text of every statement sent to the PostgreSQL database `name` (as better-sqlite3's
 * `verbose` does on SQLite), until the function answered is called.
 */
export function tracePostgres(name: string, trace: (sql: string) => void): () => void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    if (this.database === name) {
      const first = args[0];
      trace(typeof first === 'string' ? first : String((first as { text?: unknown }).text));
    }
    return original.apply(this, args);
  };
  return () => {
    proto.query = original;
  };
}

/** A database for processes a test spawns, on the engine the run is on, and how they are told of it. */
export interface SpawnedDatabase {
  /** The SQLite file, or the PostgreSQL URL. */
  location: string;
  /** DATABASE_PATH or DATABASE_URL, for the spawned processes' environment. */
  env: Record<string, string>;
  /** Removes it (the SQLite file goes with the caller's folder). */
  drop(): Promise<void>;
}

/**
 * An empty database for spawned servers and workers (they migrate it as they start): a file named
 * `file` in `dir`, or, under `npm run test:pg`, a new database on the test PostgreSQL server.
 */
export async function createSpawnedDatabase(dir: string, file: string): Promise<SpawnedDatabase> {
  if (!postgresUrl) {
    const location = path.join(dir, file);
    return { location, env: { DATABASE_PATH: location }, drop: async () => undefined };
  }
  const { url, drop } = await createTestPostgresDatabase();
  return { location: url, env: { DATABASE_URL: url }, drop };
}

/** How a spawned process is told of the database a configuration names. */
export function databaseEnv(config: { databaseUrl: string | undefined; databasePath: string }): Record<string, string> {
  return config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : { DATABASE_PATH: config.databasePath };
}

export interface OpenedStore extends TestStore {
  /** The SQLite connection under the store, on SQLite (for its PRAGMAs); undefined on PostgreSQL. */
  sqlite: Database | undefined;
}

/**
 * The store on a database other processes wrote (a SQLite file or a PostgreSQL URL), already
 * migrated by them: to read what they left, while they run or once they are dead.
 */
export function openStoreAt(location: string): OpenedStore {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const store = createPostgresStore(location, { max: 2 });
    return { store, location, sqlite: undefined, close: () => store.close() };
  }
  const sqlite = openDatabase(location);
  const store = createSqliteStore(sqlite);
  return { store, location, sqlite, close: () => store.close() };
}
