import fs from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * synchronous=FULL without stopping the server at every commit.
 *
 * With FULL, SQLite fsyncs the WAL inside COMMIT, on the thread that commits: the event loop, so no
 * request is read or answered during the fsync, and a commit costs as much whether it carries one
 * signature or a hundred. Here the connection runs at NORMAL (COMMIT writes the WAL but does not
 * fsync it; checkpoints still sync the WAL before and the database after), and every commit is
 * followed by an fsync of the WAL on libuv's thread pool before its caller is answered. What a
 * caller is told is written is on disk, as with FULL; meanwhile the server goes on reading requests,
 * and the commits made during one fsync share the next.
 *
 * The difference from FULL: any reader (this process's other requests included) may see a commit
 * in the moment before its fsync ends. A power cut in that moment loses the commit, which nobody
 * was told was written, but a reader may have acted on it (at worst a count that goes back by one,
 * or a confirmation mail whose link then finds nothing).
 *
 * Returns undefined, and changes nothing, unless the connection is a file in WAL mode at FULL.
 * `onFailure` is called once, with the first fsync failure: the process should then stop and be
 * restarted, as PostgreSQL does after a failed fsync.
 */
export interface WalSync {
  /** Resolves once every commit made before the call is on disk. */
  (): Promise<void>;
  /**
   * Resolves once the fsyncs already asked for have ended, without asking for one: for a write that
   * wrote nothing, whose answer may rest on another caller's commit (an INSERT that found the row
   * there). Rejects once an fsync has failed.
   */
  pending(): Promise<void>;
  /** Waits for the fsync under way, then lets the file go (before the connection closes). */
  close(): Promise<void>;
  /** The fsync failure that stopped every write from being answered, if one did. */
  failure(): Error | undefined;
}

export function walSync(db: BetterSqlite3.Database, onFailure?: (error: Error) => void): WalSync | undefined {
  if (db.memory || String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  if (db.pragma('synchronous', { simple: true }) !== 2 /* FULL */) return undefined;
  db.pragma('synchronous = NORMAL');
  const walFile = `${db.name}-wal`;
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  // A failed fsync is not tried again: Linux reports a lost write once, and a later fsync may then
  // succeed without it. From the first failure on, no commit is ever answered as written; the
  // process must be restarted, and SQLite's recovery then finds what is really on disk.
  let failed: Error | undefined;

  const fsyncNow = (): Promise<void> => {
    const sync = new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      // Opened once the WAL exists (after the first commit); it lives as long as this connection.
      fd ??= fs.openSync(walFile, 'r');
      fs.fsync(fd, (error) => {
        const first = error && !failed;
        if (error) failed ??= new Error(`the database's WAL could not be written to disk: ${error.message}`);
        if (failed) reject(failed);
        else resolve();
        // Once the commits waiting for this fsync are told, the process is asked to stop.
        if (first) onFailure?.(failed!);
      });
    }).finally(() => {
      if (running === sync) running = undefined;
    });
    running = sync;
    return sync;
  };

  const durable = (): Promise<void> => {
    if (failed) return Promise.reject(failed);
    if (!running) return fsyncNow();
    // The fsync under way may have started before this commit was written: wait for the next one,
    // which every commit made meanwhile shares.
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return fsyncNow();
      });
    return next;
  };

  return Object.assign(durable, {
    pending: (): Promise<void> => (failed ? Promise.reject(failed) : (next ?? running ?? Promise.resolve())),
    failure: () => failed,
    async close() {
      await (next ?? running)?.catch(() => undefined);
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  });
}
