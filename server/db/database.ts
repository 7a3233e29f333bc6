import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { appRoot, type Synchronous } from '../config';

export type Database = BetterSqlite3.Database;

/**
 * Opens the SQLite file in WAL mode with foreign keys on. `synchronous` is a deliberate choice:
 * FULL (the default) fsyncs the WAL on every commit, so an acknowledged signature survives a power
 * cut; group commit keeps that affordable. NORMAL survives process crashes only.
 */
export function openDatabase(
  file: string,
  synchronous: Synchronous = 'FULL',
  options: { verbose?: (sql: unknown) => void } = {},
): Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new BetterSqlite3(file, options);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

const migrationsDir = path.join(appRoot, 'db', 'migrations');

/** Applies db/migrations/NNNN-name.sql in order, each in its own transaction, and records it. */
export function migrate(db: Database, dir = migrationsDir): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f))
    .sort();
  const done: string[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    // A migration that rebuilds a table (SQLite cannot change a CHECK in place) starts with this line:
    // foreign keys are off while it runs (dropping the old table must not cascade), and checked after.
    const rebuilds = sql.startsWith('-- migrate: foreign_keys off');
    if (rebuilds) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(sql);
        if (rebuilds) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${file} leaves ${broken.length} broken foreign keys`);
        }
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          version,
          file,
          Date.now(),
        );
      })();
    } finally {
      if (rebuilds) db.pragma('foreign_keys = ON');
    }
    done.push(file);
  }
  return done;
}
