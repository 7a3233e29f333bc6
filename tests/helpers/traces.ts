import type { Database } from '../../server/db/database';

/** Every `table.column` of the database where any of these strings appears (case-insensitive). */
export function tracesOf(db: Database, needles: string[]): string[] {
  const traces: string[] = [];
  for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
    for (const { name: column } of db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>) {
      for (const needle of needles) {
        const hits = db
          .prepare(`SELECT count(*) FROM "${table}" WHERE instr(lower(CAST("${column}" AS TEXT)), ?) > 0`)
          .pluck()
          .get(needle.toLowerCase()) as number;
        if (hits > 0) traces.push(`${table}.${column} ~ ${needle}`);
      }
    }
  }
  return traces;
}
