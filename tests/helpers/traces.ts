import { sql } from 'kysely';
import type { Executor } from '../../server/db/store';
import { canonicalEmail } from '../../server/signatures/rules';

/**
 * Every table of the database and its columns. The two engines list them differently (SQLite's
 * catalogue and PRAGMA, PostgreSQL's information_schema), so each has its query.
 */
async function columns(db: Executor): Promise<Array<{ table: string; column: string }>> {
  return db.dialect === 'postgres'
    ? db.all(
        sql<{ table: string; column: string }>`SELECT table_name AS "table", column_name AS "column"
          FROM information_schema.columns WHERE table_schema = current_schema()
          ORDER BY table_name, ordinal_position`,
      )
    : db.all(
        sql<{ table: string; column: string }>`SELECT m.name AS "table", c.name AS "column"
          FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' ORDER BY m.name, c.cid`,
      );
}

/** The names of the database's tables. */
export async function tablesOf(db: Executor): Promise<string[]> {
  return [...new Set((await columns(db)).map((c) => c.table))];
}

/** Where `needle` is in a column as text: SQLite's instr is PostgreSQL's strpos (both 1-based, 0 when absent). */
function contains(db: Executor, column: string, needle: string, caseless = true) {
  const position = sql.raw(db.dialect === 'postgres' ? 'strpos' : 'instr');
  const text = sql`CAST(${sql.ref(column)} AS TEXT)`;
  return sql`${position}(${caseless ? sql`lower(${text})` : text}, ${needle}) > 0`;
}

/** Every `table.column` of the database where any of these strings appears (case-insensitive). */
export async function tracesOf(db: Executor, needles: string[]): Promise<string[]> {
  const traces: string[] = [];
  for (const { table, column } of await columns(db)) {
    for (const needle of needles) {
      const { n } = (await db.first(
        sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}
          WHERE ${contains(db, column, needle.toLowerCase())}`,
      ))!;
      if (n > 0) traces.push(`${table}.${column} ~ ${needle}`);
    }
  }
  return traces;
}

/**
 * Every address in any column of any table that is the same person's as `email` once canonical
 * (any case, a `+tag`, Gmail's dots), as `table.column: address`. Other people's addresses that
 * merely contain it (joann@x.org for ann@x.org) are not traces.
 */
export async function emailTracesOf(db: Executor, email: string): Promise<string[]> {
  const wanted = canonicalEmail(email);
  const traces: string[] = [];
  for (const { table, column } of await columns(db)) {
    const values = await db.all(
      sql<{ value: string }>`SELECT CAST(${sql.ref(column)} AS TEXT) AS value FROM ${sql.table(table)}
        WHERE ${contains(db, column, '@', false)}`,
    );
    for (const { value } of values) {
      for (const [address] of value.matchAll(/[^\s@<>()[\]{}"',;:]+@[^\s@<>()[\]{}"',;:]+/g)) {
        if (canonicalEmail(address.replace(/\.+$/, '')) === wanted) traces.push(`${table}.${column}: ${address}`);
      }
    }
  }
  return traces;
}

/** Every row of every table in which `needle` appears, as JSON: to show that rows were left as they were. */
export async function rowsMentioning(db: Executor, needle: string): Promise<string[]> {
  const byTable = new Map<string, string[]>();
  for (const { table, column } of await columns(db)) byTable.set(table, [...(byTable.get(table) ?? []), column]);
  const rows: string[] = [];
  for (const [table, cols] of byTable) {
    const where = sql.join(
      cols.map((c) => contains(db, c, needle.toLowerCase())),
      sql` OR `,
    );
    for (const row of await db.all(sql`SELECT * FROM ${sql.table(table)} WHERE ${where}`)) {
      rows.push(`${table} ${JSON.stringify(row)}`);
    }
  }
  return rows.sort();
}
