import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
  integrity: string;
}

/**
 * A consistent copy of a live SQLite database through SQLite's online backup API (which the server
 * may keep writing during), checked with `PRAGMA integrity_check` before it takes the final name:
 * a failed or corrupt backup never replaces a good file of the same name.
 */
export async function backupSqlite(source: string, out: string): Promise<BackupResult> {
  // Renaming a copy over the database (or its journal) would cut the running server off its file.
  const target = path.resolve(out);
  const live = path.resolve(source);
  if ([live, `${live}-wal`, `${live}-shm`, `${live}-journal`].includes(target)) {
    throw new Error(`--out names the database itself (${live}) or its journal: choose another file`);
  }
  const db = new BetterSqlite3(source, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.partial-${process.pid}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  try {
    const { totalPages } = await db.backup(partial);
    const copy = new BetterSqlite3(partial);
    // One self-contained file: the copy keeps the source's WAL mode, which would want -wal and -shm.
    copy.pragma('journal_mode = DELETE');
    const integrity = (copy.pragma('integrity_check') as Array<{ integrity_check: string }>)
      .map((r) => r.integrity_check)
      .join('; ');
    copy.close();
    if (integrity !== 'ok') throw new Error(`the copy failed its integrity check: ${integrity}`);
    fs.renameSync(partial, out);
    return { file: out, bytes: fs.statSync(out).size, pages: totalPages, integrity };
  } finally {
    db.close();
    fs.rmSync(partial, { force: true });
  }
}
