import type BetterSqlite3 from 'better-sqlite3';
import { migrate } from './database';
import { builders, compile, Mutex, Prepared, type Executor, type Query, type Store } from './store';
import { walSync } from './walSync';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * Statements whose changed rows (or RETURNING rows) say whether they wrote: any other statement
 * that is not read-only (a schema change, a PRAGMA that sets) counts as a write whatever it did.
 */
const rowWrite = /^\s*(INSERT|UPDATE|DELETE|REPLACE|WITH)\b/i;

/** How many distinct dynamic queries (filters that vary) keep their prepared statement. */
const DYNAMIC_CACHE = 256;

/**
 * The store on better-sqlite3: every statement runs synchronously on the one connection, so the
 * promises it returns are settled at once and SQLite keeps its speed. Statements are prepared once
 * and kept. Transactions take turns through a mutex (one connection can hold one transaction);
 * a write outside any transaction waits for the one in progress rather than joining it.
 * At synchronous=FULL, a commit is answered once its WAL is on disk, fsynced off the event loop
 * (walSync.ts).
 */
export function createSqliteStore(db: BetterSqlite3.Database): Store {
  const mutex = new Mutex();
  const failureListeners: Array<(error: Error) => void> = [];
  const durable = walSync(db, (error) => {
    for (const listener of failureListeners) listener(error);
  });
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
  // Statements run that wrote something. A transaction or a statement that wrote nothing (an
  // outbox poll that found nothing due, an UPDATE that matched no row) asks for no fsync of its
  // own unless another process committed meanwhile (see settled).
  // A statement with RETURNING returns a row for each row it wrote. Triggers write rows that no
  // count shows: while the schema has any, every statement that is not read-only counts.
  let writes = 0;
  let triggers = false;
  const countTriggers = () =>
    (triggers =
      (db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'`).get() as { n: number }).n > 0);
  countTriggers();
  // What other connections to the file had committed when this one last looked.
  let dataVersion = db.pragma('data_version', { simple: true });
  /**
   * Resolves once what a statement or transaction wrote, or found, is on disk. One that wrote asks
   * for an fsync. One that wrote nothing asks for none, but what it found may be a commit not yet
   * fsynced: this connection's (it waits for the fsyncs under way), or another process's on the
   * same file (web workers, `npm run worker`): then it fsyncs the file once, which that commit is in.
   */
  function settled(wrote: boolean): Promise<void> | undefined {
    if (!durable) return undefined;
    if (wrote) return durable();
    const version = db.pragma('data_version', { simple: true });
    if (version === dataVersion) return durable.pending();
    dataVersion = version;
    return durable();
  }
  function execute(statement: Statement, values: unknown[], mode: Mode): unknown {
    if (statement.readonly) {
      if (mode === 'run') return statement.reader ? statement.all(values).length : statement.run(values).changes;
      if (!statement.reader) throw new Error(`not a query that returns rows: ${statement.source}`);
      return mode === 'all' ? statement.all(values) : statement.get(values);
    }
    if (!statement.reader && mode !== 'run') throw new Error(`not a query that returns rows: ${statement.source}`);
    const countsRows = rowWrite.test(statement.source);
    let wrote = triggers || !countsRows;
    try {
      if (!statement.reader) {
        const { changes } = statement.run(values);
        wrote ||= changes > 0;
        return changes;
      }
      // RETURNING: every row is written by the first step, whatever is read of them.
      const rows = statement.all(values);
      wrote ||= rows.length > 0;
      return mode === 'run' ? rows.length : mode === 'all' ? rows : rows[0];
    } catch (error) {
      wrote = true; // it may have written rows before it failed (INSERT OR FAIL)
      throw error;
    } finally {
      if (wrote) writes++;
      // A schema change may have added or dropped a trigger.
      if (!countsRows) countTriggers();
    }
  }

  function executor(inTransaction: boolean, depth: number): Executor {
    async function go(query: Query<unknown> | Prepared<unknown, unknown>, args: unknown, mode: Mode) {
      const [statement, values] = statementFor(query, args);
      if (inTransaction || statement.readonly) return execute(statement, values, mode);
      // Outside a transaction, a write must not slip into another caller's open transaction.
      let result: unknown;
      const writesBefore = writes;
      if (!mutex.locked) result = execute(statement, values, mode);
      else {
        const release = await mutex.lock();
        try {
          result = execute(statement, values, mode);
        } finally {
          release();
        }
      }
      await settled(writes !== writesBefore);
      return result;
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
        const writesBefore = writes;
        let result: T;
        try {
          // IMMEDIATE: take the write lock up front, so that a transaction that reads before it
          // writes cannot meet SQLITE_BUSY when another process wrote in between.
          db.exec('BEGIN IMMEDIATE');
          try {
            result = await work(executor(true, 1));
            db.exec('COMMIT');
          } catch (error) {
            if (db.inTransaction) db.exec('ROLLBACK');
            throw error;
          }
        } finally {
          release();
        }
        // The next transaction may begin meanwhile: its commit shares the next fsync.
        await settled(writes !== writesBefore);
        return result;
      },
    };
  }

  return {
    ...executor(false, 0),
    writeFailure: () => durable?.failure(),
    settledReads: durable ? async () => settled(false) : undefined,
    onWriteFailure(listener: (error: Error) => void) {
      failureListeners.push(listener);
      const failed = durable?.failure();
      if (failed) listener(failed);
    },
    async migrate(dir?: string) {
      const applied = migrate(db, dir);
      countTriggers();
      if (applied.length > 0) await durable?.();
      return applied;
    },
    async close() {
      await durable?.close();
      db.close();
    },
  };
}
