import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema';
import { prepared, type Dialect, type Executor, type Params } from '../db/store';

export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'dead';

export interface OutboxRow {
  id: number;
  kind: string;
  recipient: string;
  template: string;
  params: Record<string, unknown>;
  locale: string;
  messageId: string;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface NewOutboxRow {
  kind: string;
  recipient: string;
  template: string;
  params: Record<string, unknown>;
  locale: string;
  messageId: string;
  now: number;
  /** When it may first be sent (default: now). */
  notBefore?: number;
}

interface RawRow {
  id: number;
  kind: string;
  recipient: string;
  template: string;
  params: string;
  locale: string;
  message_id: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

function toRow(r: RawRow): OutboxRow {
  return {
    id: r.id,
    kind: r.kind,
    recipient: r.recipient,
    template: r.template,
    params: JSON.parse(r.params) as Record<string, unknown>,
    locale: r.locale,
    messageId: r.message_id,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
  };
}

/** Rows claimed together, and the lease they share: only this claim may record their outcomes. */
export interface Claim {
  lease: number;
  rows: OutboxRow[];
}

const insertRow = prepared(
  (qb, p: Params<Omit<NewOutboxRow, 'params' | 'notBefore'> & { params: string; due: number }>) =>
    qb
      .insertInto('outbox')
      .values({
        kind: p.kind,
        recipient: p.recipient,
        template: p.template,
        params: p.params,
        locale: p.locale,
        message_id: p.messageId,
        next_attempt_at: p.due,
        created_at: p.now,
      })
      .returning('id'),
);

/** Writes a mail to send in the caller's transaction (`tx`): the one way mail is queued. */
export async function insertOutboxRow(tx: Executor, row: NewOutboxRow): Promise<number> {
  const { notBefore, ...rest } = row;
  const inserted = await tx.first(insertRow, {
    ...rest,
    params: JSON.stringify(row.params),
    due: Math.max(row.now, notBefore ?? row.now),
  });
  return Number(inserted!.id);
}

/**
 * Claims take turns on PostgreSQL while they compute their lease (any constant every process agrees
 * on): a transaction-level advisory lock, released at commit, so that two claims never read the same
 * latest lease. SQLite needs none: its claim holds the write lock from BEGIN IMMEDIATE.
 */
const LEASE_LOCK = 7_358_222;
/** Long id lists go to the database in pieces: SQLite binds at most 32,766 values per statement. */
const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += CHUNK) out.push(list.slice(i, i + CHUNK));
  return out;
}

const latestLease = prepared((qb) =>
  qb
    .selectFrom('outbox')
    .select((eb) => eb.fn.max('lease_until').as('lease'))
    .where('state', '=', 'sending'),
);

/**
 * A row is due when it is queued and its time has come, or when the lease of a sender that claimed
 * it ran out (the sender died between claim and mark: the crash window). Rows the claiming sender is
 * itself still sending (`exclude`) are left out. One UPDATE … RETURNING on both databases; on
 * PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so that a claim never waits for, nor takes,
 * a row another transaction is claiming or recording at that moment.
 */
function claimRows(
  qb: Kysely<DB>,
  dialect: Dialect,
  a: { now: number; lease: number; limit: number; exclude: readonly number[] },
) {
  const due = (state: 'queued' | 'sending') =>
    qb
      .selectFrom('outbox')
      .select('id')
      .where('state', '=', state)
      .where(state === 'queued' ? 'next_attempt_at' : 'lease_until', '<=', a.now)
      .$call((q) => chunks(a.exclude).reduce((w, ids) => w.where('id', 'not in', ids), q))
      .$if(state === 'queued', (q) => q.orderBy('next_attempt_at'))
      .limit(a.limit)
      .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked());
  const ids = qb
    .selectFrom(due('queued').as('q'))
    .select('id')
    .unionAll(qb.selectFrom(due('sending').as('e')).select('id'))
    .limit(a.limit);
  return qb
    .updateTable('outbox')
    .set((eb) => ({ state: 'sending', lease_until: a.lease, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', ids)
    .returningAll();
}

// Every outcome is recorded only by the claim that holds the row: a sender whose lease ran out and
// was taken over changes nothing (see claimDue).
type Held = { id: number; lease: number };
const markSent = prepared((qb, p: Params<Held & { response: string; now: number }>) =>
  qb
    .updateTable('outbox')
    .set({ state: 'sent', sent_at: p.now, lease_until: null, relay_response: p.response, last_error: null })
    .where('id', '=', p.id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', p.lease),
);
const scheduleRetry = prepared((qb, p: Params<Held & { error: string; nextAttemptAt: number }>) =>
  qb
    .updateTable('outbox')
    .set({ state: 'queued', next_attempt_at: p.nextAttemptAt, lease_until: null, last_error: p.error })
    .where('id', '=', p.id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', p.lease),
);
const markFailed = prepared((qb, p: Params<Held & { state: 'failed' | 'dead'; error: string }>) =>
  qb
    .updateTable('outbox')
    .set({ state: p.state, lease_until: null, last_error: p.error })
    .where('id', '=', p.id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', p.lease),
);
const requeue = prepared((qb, p: Params<Held & { error: string }>) =>
  qb
    .updateTable('outbox')
    .set((eb) => ({ state: 'queued', attempts: eb('attempts', '-', 1), lease_until: null, last_error: p.error }))
    .where('id', '=', p.id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', p.lease),
);
const pause = prepared((qb, p: Params<{ reason: string; now: number; relay: string | null }>) =>
  qb
    .insertInto('outbox_pause')
    .values({ id: 1, reason: p.reason, paused_at: p.now, relay: p.relay })
    .onConflict((oc) => oc.column('id').doNothing()),
);
const resume = prepared((qb) => qb.deleteFrom('outbox_pause'));
const paused = prepared((qb) =>
  qb.selectFrom('outbox_pause').select(['reason', 'paused_at as pausedAt', 'relay']).where('id', '=', 1),
);
const byId = prepared((qb, p: Params<{ id: number }>) => qb.selectFrom('outbox').selectAll().where('id', '=', p.id));
const nextDue = prepared(
  () =>
    sql<{ at: number | null }>`SELECT min(t) AS at FROM (
       SELECT min(next_attempt_at) AS t FROM outbox WHERE state = 'queued'
       UNION ALL SELECT min(lease_until) FROM outbox WHERE state = 'sending') due`,
);

export type OutboxStore = ReturnType<typeof outboxRepository>;

/** The outbox on the store: on the database, or inside a caller's transaction. */
export function outboxRepository(db: Executor) {
  return {
    async find(id: number): Promise<OutboxRow | undefined> {
      const raw = (await db.first(byId, { id })) as RawRow | undefined;
      return raw && toRow(raw);
    },
    /**
     * Claims up to `limit` due rows, leaving out `exclude` (rows this sender is still sending), in a
     * transaction of its own. The claim's lease is when the rows become due again, and names the
     * claim: it is later than every lease held now, so two claims never share one (not even in the
     * same millisecond, nor from two processes at once), and a row taken over gets a later lease than
     * the one it had.
     */
    claimDue(now: number, leaseMs: number, limit: number, exclude: readonly number[] = []): Promise<Claim> {
      return db.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.run(sql`SELECT pg_advisory_xact_lock(${LEASE_LOCK})`);
        const latest = (await tx.first(latestLease))?.lease ?? 0;
        const lease = Math.max(now + Math.max(leaseMs, 1), Number(latest) + 1);
        const rows = await tx.all(claimRows(tx.qb, tx.dialect, { now, lease, limit, exclude }));
        return { lease, rows: (rows as RawRow[]).map(toRow) };
      });
    },
    // Outcomes: each is recorded for the claim with this lease only, and says false (having changed
    // nothing) when that claim no longer holds the row.
    async markSent(id: number, lease: number, response: string, now: number): Promise<boolean> {
      return (await db.run(markSent, { id, lease, response: response.slice(0, 500), now })) === 1;
    },
    async scheduleRetry(id: number, lease: number, error: string, nextAttemptAt: number): Promise<boolean> {
      return (await db.run(scheduleRetry, { id, lease, error, nextAttemptAt })) === 1;
    },
    async markFailed(id: number, lease: number, state: 'failed' | 'dead', error: string): Promise<boolean> {
      return (await db.run(markFailed, { id, lease, state, error })) === 1;
    },
    /** Puts a claimed row back as it was, the attempt not counted (it never reached the relay's judgement). */
    async requeue(id: number, lease: number, error: string): Promise<boolean> {
      return (await db.run(requeue, { id, lease, error })) === 1;
    },
    /**
     * Gives back rows a claim took and never handed to the relay (its sender is stopping): queued,
     * due at once, the attempt not counted, for any sender to claim. Only the rows this claim still
     * holds (a lease names one claim). Returns how many it released.
     */
    async release(lease: number, ids: readonly number[]): Promise<number> {
      let released = 0;
      for (const part of chunks(ids)) {
        released += await db.run(
          db.qb
            .updateTable('outbox')
            .set((eb) => ({ state: 'queued', attempts: eb('attempts', '-', 1), lease_until: null }))
            .where('state', '=', 'sending')
            .where('lease_until', '=', lease)
            .where('id', 'in', part),
        );
      }
      return released;
    },
    /** Stops all sending until resumed: the relay refused our credentials, so every mail would fail. */
    async pause(reason: string, now: number, relay: string | null): Promise<void> {
      await db.run(pause, { reason, now, relay });
    },
    async resume(): Promise<boolean> {
      return (await db.run(resume)) > 0;
    },
    paused(): Promise<{ reason: string; pausedAt: number; relay: string | null } | undefined> {
      return db.first(paused);
    },
    /** When the next row becomes due, or null when nothing waits. */
    async nextDueAt(): Promise<number | null> {
      return (await db.first(nextDue))?.at ?? null;
    },
  };
}
