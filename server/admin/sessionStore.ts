import session from 'express-session';
import type { SessionsRepository } from './sessionsRepository';

type Callback<T = void> = (error?: unknown, value?: T) => void;

/** Settles an express-session callback from a promise. */
function settle<T>(work: Promise<T>, callback?: Callback<T>): void {
  work.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}

/**
 * express-session's store on the app's own database (the npm one for SQLite is GPL and keeps the
 * process alive). A session past its expiry is never returned, whether or not the sweep has run; the
 * sweep only reclaims space, on an unref'd timer so it never holds the process open.
 */
export class DatabaseSessionStore extends session.Store {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: SessionsRepository,
    private readonly options: { sweepIntervalMs?: number; clock?: () => number } = {},
  ) {
    super();
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), options.sweepIntervalMs ?? 10 * 60_000);
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
    settle(
      this.repo.get(sid, this.now()).then((data) => (data ? (JSON.parse(data) as session.SessionData) : null)),
      callback,
    );
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    settle(this.repo.set(sid, JSON.stringify(sess), this.expiry(sess)), callback);
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    settle(this.repo.touch(sid, this.expiry(sess)), callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    settle(this.repo.destroy(sid), callback);
  }

  override clear(callback?: Callback): void {
    settle(this.repo.clear(), callback);
  }

  override length(callback: Callback<number>): void {
    settle(this.repo.length(this.now()), callback);
  }

  /** Deletes expired sessions; answers how many. */
  sweep(): Promise<number> {
    return this.repo.sweep(this.now());
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
