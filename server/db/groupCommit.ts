import type { Database } from './database';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes that arrive within one turn of the event loop share one transaction, so with
 * synchronous=FULL one fsync serves every signature in the group. Each unit of work runs in its own
 * savepoint, so one that throws (say, a constraint) is rolled back alone and only its caller sees
 * the error. Callers are answered only after the commit.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly afterCommit: Array<() => void> = [];
  /** Runs one unit in a savepoint of the group's transaction (built once: it is called per signature). */
  private readonly savepoint: (work: () => unknown) => unknown;

  constructor(
    private readonly db: Database,
    private readonly maxGroup = 256,
  ) {
    this.savepoint = db.transaction((work: () => unknown) => work());
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) return reject(new Error('the database is closing: nothing more is written'));
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Called after every committed group (e.g. to wake the outbox sender). */
  onCommit(listener: () => void): void {
    this.afterCommit.push(listener);
  }

  /**
   * Commits, and answers, every write still queued, then refuses new ones: called before the
   * database is closed, so that no write a caller is waiting for is lost. Returns how many it wrote.
   */
  close(): number {
    this.closed = true;
    const queued = this.queue.length;
    while (this.queue.length > 0) this.commit();
    return queued;
  }

  private flush(): void {
    if (this.queue.length === 0) {
      this.scheduled = false;
      return;
    }
    this.commit();
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setImmediate(() => this.flush());
  }

  private commit(): void {
    const group = this.queue.splice(0, this.maxGroup);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      // IMMEDIATE: take the write lock up front, so that a unit that reads before it writes cannot
      // meet SQLITE_BUSY when another process (the deliver CLI, say) wrote in between.
      this.db
        .transaction(() => {
          for (const item of group) {
            try {
              outcomes.push({ ok: true, value: this.savepoint(item.work) });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    for (const listener of this.afterCommit) listener();
  }
}
