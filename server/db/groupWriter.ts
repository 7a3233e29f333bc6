import type { Executor, Store } from './store';

type Work<T> = (tx: Executor) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupWriter {
  /** Runs `work` in a transaction, and answers only once it is committed. */
  run<T>(work: Work<T>): Promise<T>;
  /** Called after every commit (e.g. to wake the outbox sender). */
  onCommit(listener: () => void): void;
  /**
   * Commits, and answers, every write still queued, then refuses new ones: called before the
   * database is closed, so that no write a caller is waiting for is lost. Resolves with how many.
   */
  close(): Promise<number>;
}

const closing = () => new Error('the database is closing: nothing more is written');

/**
 * The writes of the hot paths (a signature, a letter). On SQLite, group commit: the writes that
 * arrive within one turn of the event loop share one transaction, so with synchronous=FULL one
 * fsync serves every signature in the group; each runs in its own savepoint, so one that throws
 * (a constraint, say) is rolled back alone and only its caller sees the error. On PostgreSQL each
 * write is its own transaction: the server commits concurrent transactions together by itself.
 */
export function createGroupWriter(store: Store, maxGroup = 256): GroupWriter {
  const listeners: Array<() => void> = [];
  const committed = () => {
    for (const listener of listeners) listener();
  };
  if (store.dialect === 'postgres') {
    let closed = false;
    const inFlight = new Set<Promise<unknown>>();
    return {
      async run(work) {
        if (closed) throw closing();
        const transaction = store.transaction(work);
        inFlight.add(transaction);
        try {
          const result = await transaction;
          committed();
          return result;
        } finally {
          inFlight.delete(transaction);
        }
      },
      onCommit: (listener) => void listeners.push(listener),
      async close() {
        closed = true;
        const pending = [...inFlight];
        await Promise.allSettled(pending);
        return pending.length;
      },
    };
  }

  let queue: Pending[] = [];
  let scheduled = false;
  let closed = false;
  let flushing: Promise<void> = Promise.resolve();

  /** One group at a time, in order: the next waits for the one before to commit. */
  function flush(): Promise<void> {
    flushing = flushing.then(commitGroup);
    return flushing;
  }

  async function commitGroup(): Promise<void> {
    const group = queue.slice(0, maxGroup);
    queue = queue.slice(group.length);
    scheduled = queue.length > 0;
    if (scheduled) setImmediate(() => void flush());
    if (group.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await store.transaction(async (tx) => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: await tx.transaction(item.work) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    committed();
  }

  return {
    run<T>(work: Work<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (closed) return reject(closing());
        queue.push({ work: work as Work<unknown>, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
    onCommit: (listener) => void listeners.push(listener),
    async close() {
      closed = true;
      const queued = queue.length;
      while (queue.length > 0) await flush();
      await flushing;
      return queued;
    },
  };
}
