import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type RawBuilder,
} from 'kysely';
import type { DB } from './schema';

export type Dialect = 'sqlite' | 'postgres';

/** A query as repositories hand it over: a Kysely builder, or a raw `sql` template. */
export type Query<R> = { compile(): CompiledQuery<R> } | RawBuilder<R>;

/**
 * Where a repository's queries run: the database itself, or an open transaction. Every method is
 * async so that one repository serves both engines; on SQLite the work is done synchronously
 * underneath (better-sqlite3), so the promise is already settled when it is returned.
 */
export interface Executor {
  readonly dialect: Dialect;
  /** The query builder, for this executor's dialect. It builds and compiles; it never executes. */
  readonly qb: Kysely<DB>;
  all<R>(query: Query<R> | Prepared<never, R>, args?: undefined): Promise<R[]>;
  all<P, R>(query: Prepared<P, R>, args: P): Promise<R[]>;
  first<R>(query: Query<R> | Prepared<never, R>, args?: undefined): Promise<R | undefined>;
  first<P, R>(query: Prepared<P, R>, args: P): Promise<R | undefined>;
  /** Runs a statement and answers how many rows it changed. */
  run(query: Query<unknown> | Prepared<never, unknown>, args?: undefined): Promise<number>;
  run<P>(query: Prepared<P, unknown>, args: P): Promise<number>;
  /**
   * Runs `work` in a transaction (a savepoint when this executor is one already): committed when
   * the promise resolves, rolled back when it rejects.
   */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
}

export interface Store extends Executor {
  /** Applies the dialect's migrations not applied yet; answers the files applied. */
  migrate(dir?: string): Promise<string[]>;
  /** Why no write can be answered as durable any more (a failed fsync), if so: /readyz says it. */
  writeFailure?(): Error | undefined;
  /**
   * Calls `listener` once, when writes stop being durable (the first failed fsync; at once if that
   * was before): the process should stop, to be restarted by its supervisor.
   */
  onWriteFailure?(listener: (error: Error) => void): void;
  /**
   * Resolves once every commit this connection can read is on disk, for an answer that says
   * something was saved on the strength of a read (another request's commit, another process's);
   * rejects once writes have failed. Where a commit is read only once durable (PostgreSQL, SQLite
   * below FULL), there is none.
   */
  settledReads?(): Promise<void>;
  close(): Promise<void>;
}

/** A named parameter of a prepared query: stands in the query where its value will be bound. */
export class Param {
  constructor(readonly name: string) {}
}

/**
 * A query compiled once per dialect and executed many times with new values: the hot paths pay
 * for Kysely's building and compiling once, not per signature. `p.name` stands for the value
 * passed as `args.name` when the query runs.
 *
 *   const byId = prepared((qb, p: Params<{ id: number }>) =>
 *     qb.selectFrom('petitions').selectAll().where('id', '=', p.id));
 *   await db.first(byId, { id: 7 });
 */
export class Prepared<P, R> {
  private readonly compiled = new Map<Dialect, { sql: string; params: ReadonlyArray<unknown> }>();

  constructor(private readonly build: (qb: Kysely<DB>, p: Params<P>) => Query<R>) {}

  /** The SQL for a dialect, and a function that binds arguments in the order the SQL wants them. */
  compileFor(dialect: Dialect): { sql: string; bind: (args: P) => unknown[] } {
    let entry = this.compiled.get(dialect);
    if (!entry) {
      const params = new Proxy({} as Record<string, Param>, {
        get: (cache, name) => (typeof name === 'string' ? (cache[name] ??= new Param(name)) : undefined),
      }) as unknown as Params<P>;
      const query = compile(this.build(builders[dialect], params), builders[dialect]);
      entry = { sql: query.sql, params: query.parameters };
      this.compiled.set(dialect, entry);
    }
    const { sql, params } = entry;
    return {
      sql,
      bind: (args: P) =>
        params.map((value) => (value instanceof Param ? (args as Record<string, unknown>)[value.name] : value)),
    };
  }
}

/** What a prepared query's builder is handed: its parameters, typed as the values they stand for. */
export type Params<P> = { readonly [K in keyof P]: P[K] };

export function prepared<P = never, R = unknown>(build: (qb: Kysely<DB>, p: Params<P>) => Query<R>): Prepared<P, R> {
  return new Prepared(build);
}

/** Builders that compile for a dialect and never connect to anything. */
export const builders: Record<Dialect, Kysely<DB>> = {
  sqlite: new Kysely<DB>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

export function compile<R>(query: Query<R>, qb: Kysely<DB>): CompiledQuery<R> {
  // A builder's compile() takes nothing; a raw `sql` template's wants the builder to compile with.
  return (query as RawBuilder<R>).compile(qb);
}

/** A promise-based mutex: SQLite has one connection and one writer, so transactions take turns. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = false;

  get locked(): boolean {
    return this.held;
  }

  async lock(): Promise<() => void> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.held = true;
    return () => {
      this.held = false;
      release();
    };
  }
}
