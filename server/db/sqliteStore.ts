import type BetterSqlite3 from 'better-sqlite3';
import { migrate } from './database';
import { builders, compile, Mutex, Prepared, type Executor, type Query, type Store } from './store';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** How many distinct dynamic queries (filters that vary) keep their prepared statement. */
const DYNAMIC_CACHE = 256;

/**
 * The store on better-sqlite3: every statement runs synchronously on the one connection, so the
 * promises it returns are settled at once and SQLite keeps its speed. Statements are prepared once
 * and kept. Transactions take turns through a mutex (one connection can hold one transaction);
 * a write outside any transaction waits for the one in progress rather than joining it.
 */
export function createSqliteStore(db: BetterSqlite3.Database): Store {
  const mutex = new Mutex();
  const preparedStatements = new WeakMap<
    Prepared<unknown, unknown>,
    { statement: Statement; bind: (a: unknown) => unknown[] }
  >();
  const dynamic = new Map<string, Statement>();
  const qb = builders.sqlite;

  function statementFor(query: Query<unknown> | Prepared<unknown, unknown>, args: unknown): [Statement, unknown[]] {
    if (query instanceof Prepared) {
      let entry = preparedStatements.get(query);
      if (!entry) {
        const { sql, bind } = query.compileFor('sqlite');
        entry = { statement: db.prepare(sql), bind };
        preparedStatements.set(query, entry);
      }
      return [entry.statement, entry.bind(args)];
    }
    const compiled = compile(query, qb);
    let statement = dynamic.get(compiled.sql);
    if (statement) {
      dynamic.delete(compiled.sql); // re-inserted below: the map's order is the order of use
    } else {
      statement = db.prepare(compiled.sql);
      if (dynamic.size >= DYNAMIC_CACHE) dynamic.delete(dynamic.keys().next().value as string);
    }
    dynamic.set(compiled.sql, statement);
    return [statement, compiled.parameters as unknown[]];
  }

  type Mode = 'all' | 'first' | 'run';
  function execute(statement: Statement, values: unknown[], mode: Mode): unknown {
    if (mode === 'run') return statement.reader ? statement.all(values).length : statement.run(values).changes;
    if (!statement.reader) throw new Error(`not a query that returns rows: ${statement.source}`);
    return mode === 'all' ? statement.all(values) : statement.get(values);
  }

  function executor(inTransaction: boolean, depth: number): Executor {
    async function go(query: Query<unknown> | Prepared<unknown, unknown>, args: unknown, mode: Mode) {
      const [statement, values] = statementFor(query, args);
      // Outside a transaction, a write must not slip into another caller's open transaction.
      if (inTransaction || statement.readonly || !mutex.locked) return execute(statement, values, mode);
      const release = await mutex.lock();
      try {
        return execute(statement, values, mode);
      } finally {
        release();
      }
    }
    return {
      dialect: 'sqlite',
      qb,
      all: ((query: Query<unknown>, args?: unknown) => go(query, args, 'all')) as Executor['all'],
      first: ((query: Query<unknown>, args?: unknown) => go(query, args, 'first')) as Executor['first'],
      run: ((query: Query<unknown>, args?: unknown) => go(query, args, 'run')) as Executor['run'],
      async transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
        if (inTransaction) {
          const name = `s${depth}`;
          db.exec(`SAVEPOINT ${name}`);
          try {
            const result = await work(executor(true, depth + 1));
            db.exec(`RELEASE ${name}`);
            return result;
          } catch (error) {
            db.exec(`ROLLBACK TO ${name}`);
            db.exec(`RELEASE ${name}`);
            throw error;
          }
        }
        const release = await mutex.lock();
        try {
          // IMMEDIATE: take the write lock up front, so that a transaction that reads before it
          // writes cannot meet SQLITE_BUSY when another process wrote in between.
          db.exec('BEGIN IMMEDIATE');
          try {
            const result = await work(executor(true, 1));
            db.exec('COMMIT');
            return result;
          } catch (error) {
            if (db.inTransaction) db.exec('ROLLBACK');
            throw error;
          }
        } finally {
          release();
        }
      },
    };
  }

  return {
    ...executor(false, 0),
    async migrate(dir?: string) {
      return migrate(db, dir);
    },
    async close() {
      db.close();
    },
  };
}
