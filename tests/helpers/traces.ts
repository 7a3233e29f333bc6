import type { Database } from '../../server/db/database';
import { canonicalEmail } from '../../server/signatures/rules';

/** Every table of the database and its columns, as SQLite lists them. */
function columns(db: Database): Array<{ table: string; column: string }> {
  const all: Array<{ table: string; column: string }> = [];
  for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
    for (const { name } of db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>) {
      all.push({ table, column: name });
    }
  }
  return all;
}

/** Every `table.column` of the database where any of these strings appears (case-insensitive). */
export function tracesOf(db: Database, needles: string[]): string[] {
  const traces: string[] = [];
  for (const { table, column } of columns(db)) {
    for (const needle of needles) {
      const hits = db
        .prepare(`SELECT count(*) FROM "${table}" WHERE instr(lower(CAST("${column}" AS TEXT)), ?) > 0`)
        .pluck()
        .get(needle.toLowerCase()) as number;
      if (hits > 0) traces.push(`${table}.${column} ~ ${needle}`);
    }
  }
  return traces;
}

/**
 * Every address in any column of any table that is the same person's as `email` once canonical
 * (any case, a `+tag`, Gmail's dots), as `table.column: address`. Other people's addresses that
 * merely contain it (joann@x.org for ann@x.org) are not traces.
 */
export function emailTracesOf(db: Database, email: string): string[] {
  const wanted = canonicalEmail(email);
  const traces: string[] = [];
  for (const { table, column } of columns(db)) {
    const values = db
      .prepare(`SELECT CAST("${column}" AS TEXT) FROM "${table}" WHERE instr(CAST("${column}" AS TEXT), '@') > 0`)
      .pluck()
      .all() as string[];
    for (const value of values) {
      for (const [address] of value.matchAll(/[^\s@<>()[\]{}"',;:]+@[^\s@<>()[\]{}"',;:]+/g)) {
        if (canonicalEmail(address.replace(/\.+$/, '')) === wanted) traces.push(`${table}.${column}: ${address}`);
      }
    }
  }
  return traces;
}

/** Every row of every table in which `needle` appears, as JSON: to show that rows were left as they were. */
export function rowsMentioning(db: Database, needle: string): string[] {
  const rows: string[] = [];
  for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
    const cols = (db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
    const where = cols.map((c) => `instr(lower(CAST("${c}" AS TEXT)), @needle) > 0`).join(' OR ');
    for (const row of db.prepare(`SELECT * FROM "${table}" WHERE ${where}`).all({ needle: needle.toLowerCase() })) {
      rows.push(`${table} ${JSON.stringify(row)}`);
    }
  }
  return rows.sort();
}
