import session from 'express-session';
import type { Database } from '../db/database';

type Callback<T = void> = (error?: unknown, value?: T) => void;

/**
 * express-session's store on the app's own SQLite file (the npm one is GPL and keeps the process
 * alive). A session past its expiry is never returned, whether or not the sweep has run; the sweep
 * only reclaims space, on an unref'd timer so it never holds the process open.
 */
export class SqliteSessionStore extends session.Store {
  private readonly statements;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    db: Database,
    private readonly options: { sweepIntervalMs?: number; clock?: () => number } = {},
  ) {
    super();
    this.statements = {
      get: db.prepare('SELECT data FROM sessions WHERE sid = ? AND expires_at > ?').pluck(),
      set: db.prepare(
        `INSERT INTO sessions (sid, data, expires_at) VALUES (@sid, @data, @expiresAt)
         ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
      ),
      touch: db.prepare('UPDATE sessions SET expires_at = ? WHERE sid = ?'),
      destroy: db.prepare('DELETE FROM sessions WHERE sid = ?'),
      sweep: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
      clear: db.prepare('DELETE FROM sessions'),
      length: db.prepare('SELECT count(*) FROM sessions WHERE expires_at > ?').pluck(),
    };
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 10 * 60_000);
    this.timer.unref();
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private expiry(sess: session.SessionData): number {
    const expires = sess.cookie?.expires;
    return expires ? new Date(expires).getTime() : this.now() + 24 * 3600 * 1000;
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    try {
      const data = this.statements.get.get(sid, this.now()) as string | undefined;
      callback(null, data ? (JSON.parse(data) as session.SessionData) : null);
    } catch (error) {
      callback(error);
    }
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    try {
      this.statements.set.run({ sid, data: JSON.stringify(sess), expiresAt: this.expiry(sess) });
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    try {
      this.statements.touch.run(this.expiry(sess), sid);
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override destroy(sid: string, callback?: Callback): void {
    try {
      this.statements.destroy.run(sid);
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override clear(callback?: Callback): void {
    try {
      this.statements.clear.run();
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }

  override length(callback: Callback<number>): void {
    try {
      callback(null, this.statements.length.get(this.now()) as number);
    } catch (error) {
      callback(error);
    }
  }

  /** Deletes expired sessions; returns how many. */
  sweep(): number {
    return this.statements.sweep.run(this.now()).changes;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
