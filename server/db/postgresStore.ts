import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { appRoot } from '../config';
import { builders, compile, Prepared, type Executor, type Query, type Store } from './store';

/** Serialises migrations when several processes start at once (any constant both agree on). */
const MIGRATION_LOCK = 7_358_221;

// Times are epoch milliseconds in BIGINT columns and counts come back as BIGINT or NUMERIC: as
// JavaScript numbers they stay exact up to 2^53, far beyond any of ours.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

type Client = pg.Pool | pg.PoolClient;

/**
 * The store on PostgreSQL through a `pg` pool. Queries compile with Kysely's PostgreSQL compiler
 * and run on the pool, or on the client that holds a transaction. PostgreSQL commits concurrent
 * transactions together on its own, so there is no group commit here.
 */
export function createPostgresStore(
  url: string,
  options: { max?: number; onIdleError?: (error: Error) => void } = {},
): Store {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
  // An idle connection the server closed (a restart, a failover, an administrator) must not bring
  // the process down: the pool drops it and the next query opens a new one.
  pool.on('error', (error) => options.onIdleError?.(error));
  const qb = builders.postgres;

  function sqlFor(query: Query<unknown> | Prepared<unknown, unknown>, args: unknown): [string, unknown[]] {
    if (query instanceof Prepared) {
      const { sql, bind } = query.compileFor('postgres');
      return [sql, bind(args)];
    }
    const compiled = compile(query, qb);
    return [compiled.sql, compiled.parameters as unknown[]];
  }

  function executor(client: Client, depth: number): Executor {
    const query = async (q: Query<unknown> | Prepared<unknown, unknown>, args: unknown) => {
      const [text, values] = sqlFor(q, args);
      return client.query({ text, values });
    };
    return {
      dialect: 'postgres',
      qb,
      all: (async (q: Query<unknown>, args?: unknown) => (await query(q, args)).rows) as Executor['all'],
      first: (async (q: Query<unknown>, args?: unknown) => (await query(q, args)).rows[0]) as Executor['first'],
      run: (async (q: Query<unknown>, args?: unknown) => (await query(q, args)).rowCount ?? 0) as Executor['run'],
      async transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
        if (depth > 0) {
          const name = `s${depth}`;
          await client.query(`SAVEPOINT ${name}`);
          try {
            const result = await work(executor(client, depth + 1));
            await client.query(`RELEASE SAVEPOINT ${name}`);
            return result;
          } catch (error) {
            await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
            throw error;
          }
        }
        const connection = await pool.connect();
        try {
          await connection.query('BEGIN');
          try {
            const result = await work(executor(connection, 1));
            await connection.query('COMMIT');
            return result;
          } catch (error) {
            await connection.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        } finally {
          connection.release();
        }
      },
    };
  }

  return {
    ...executor(pool, 0),
    migrate: (dir = path.join(appRoot, 'db', 'migrations', 'postgres')) => migrate(pool, dir),
    async close() {
      await pool.end();
    },
  };
}

/**
 * Applies db/migrations/postgres/NNNN-name.sql in order, each in its own transaction, and records
 * it, as the SQLite runner does. An advisory lock makes processes that start together take turns.
 */
async function migrate(pool: pg.Pool, dir: string): Promise<string[]> {
  const client = await pool.connect();
  const done: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const file of migrationFiles(dir)) {
      const version = Number(file.slice(0, 4));
      if (applied.has(version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(fs.readFileSync(path.join(dir, file), 'utf8'));
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          version,
          file,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      done.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return done;
}

export function migrationFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f))
    .sort();
}
