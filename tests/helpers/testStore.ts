import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../server/db/database';
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
export async function createTestPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `undersigned_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: postgresUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}
