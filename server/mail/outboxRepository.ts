import type { Database } from '../db/database';
import { prepared, type Executor, type Params } from '../db/store';

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

export type OutboxRepository = ReturnType<typeof outboxRepository>;

const insertRow = prepared((qb, p: Params<Omit<NewOutboxRow, 'params'> & { params: string }>) =>
  qb
    .insertInto('outbox')
    .values({
      kind: p.kind,
      recipient: p.recipient,
      template: p.template,
      params: p.params,
      locale: p.locale,
      message_id: p.messageId,
      next_attempt_at: p.now,
      created_at: p.now,
    })
    .returning('id'),
);

/** Writes a mail to send in the caller's transaction (`tx`): the one way mail is queued. */
export async function insertOutboxRow(tx: Executor, row: NewOutboxRow): Promise<number> {
  const inserted = await tx.first(insertRow, { ...row, params: JSON.stringify(row.params) });
  return Number(inserted!.id);
}

export function outboxRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO outbox (kind, recipient, template, params, locale, message_id, next_attempt_at, created_at)
     VALUES (@kind, @recipient, @template, @params, @locale, @messageId, @now, @now)`,
  );
  // A row is due when it is queued and its time has come, or when the lease of a sender that
  // claimed it ran out (the sender died between claim and mark: the crash window). Rows the claiming
  // sender is itself still sending are left out.
  const claim = db.prepare(
    `UPDATE outbox SET state = 'sending', lease_until = @lease, attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= @now
                         AND id NOT IN (SELECT value FROM json_each(@exclude))
                       ORDER BY next_attempt_at LIMIT @limit)
       UNION ALL
       SELECT id FROM (SELECT id FROM outbox WHERE state = 'sending' AND lease_until <= @now
                         AND id NOT IN (SELECT value FROM json_each(@exclude)) LIMIT @limit)
       LIMIT @limit)
     RETURNING *`,
  );
  const latestLease = db.prepare("SELECT max(lease_until) FROM outbox WHERE state = 'sending'").pluck();
  const claimWithLease = db.transaction((now: number, leaseMs: number, limit: number, exclude: string): Claim => {
    const lease = Math.max(now + Math.max(leaseMs, 1), ((latestLease.get() as number | null) ?? 0) + 1);
    return { lease, rows: (claim.all({ now, lease, limit, exclude }) as RawRow[]).map(toRow) };
  });
  // Every outcome is recorded only by the claim that holds the row: a sender whose lease ran out and
  // was taken over changes nothing (see claimDue).
  const held = `id = @id AND state = 'sending' AND lease_until = @lease`;
  const sent = db.prepare(
    `UPDATE outbox SET state = 'sent', sent_at = @now, lease_until = NULL, relay_response = @response, last_error = NULL
     WHERE ${held}`,
  );
  const retry = db.prepare(
    `UPDATE outbox SET state = 'queued', next_attempt_at = @nextAttemptAt, lease_until = NULL, last_error = @error
     WHERE ${held}`,
  );
  const fail = db.prepare(`UPDATE outbox SET state = @state, lease_until = NULL, last_error = @error WHERE ${held}`);
  const nextDue = db.prepare(
    `SELECT min(t) FROM (
       SELECT min(next_attempt_at) AS t FROM outbox WHERE state = 'queued'
       UNION ALL SELECT min(lease_until) FROM outbox WHERE state = 'sending')`,
  );

  const requeue = db.prepare(
    `UPDATE outbox SET state = 'queued', attempts = attempts - 1, lease_until = NULL, last_error = @error WHERE ${held}`,
  );
  // Only the rows this claim still holds: a lease names one claim (see claimDue).
  const release = db.prepare(
    `UPDATE outbox SET state = 'queued', attempts = attempts - 1, lease_until = NULL
     WHERE state = 'sending' AND lease_until = @lease AND id IN (SELECT value FROM json_each(@ids))`,
  );
  const pause = db.prepare(
    `INSERT INTO outbox_pause (id, reason, paused_at, relay) VALUES (1, @reason, @now, @relay)
     ON CONFLICT (id) DO NOTHING`,
  );
  const resume = db.prepare('DELETE FROM outbox_pause');
  const byId = db.prepare('SELECT * FROM outbox WHERE id = ?');
  const paused = db.prepare('SELECT reason, paused_at AS pausedAt, relay FROM outbox_pause WHERE id = 1');
  const page = db.prepare('SELECT id, kind, recipient, params FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
  const remove = db.prepare('DELETE FROM outbox WHERE id = ?');
  // Finished mail, by when it was sent or last tried. A row a batch refers to is that batch's
  // delivery record (a digest names no one: its signers are read when it is sent) and stays.
  const prune = db.prepare(
    `DELETE FROM outbox WHERE state IN ('sent', 'failed', 'dead') AND coalesce(sent_at, next_attempt_at) <= ?
       AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.outbox_id = outbox.id)`,
  );
  const forgetSignatures = db.prepare(
    "DELETE FROM outbox WHERE json_extract(params, '$.signatureId') IN (SELECT value FROM json_each(?))",
  );

  return {
    /**
     * Call inside the transaction that causes the mail. Synchronous, on the SQLite connection: kept
     * only for the services not yet on the store (letters, delivery); new code uses insertOutboxRow.
     */
    enqueueNow(row: NewOutboxRow): number {
      return Number(insert.run({ ...row, params: JSON.stringify(row.params) }).lastInsertRowid);
    },
    find(id: number): OutboxRow | undefined {
      const raw = byId.get(id) as RawRow | undefined;
      return raw && toRow(raw);
    },
    /**
     * Claims up to `limit` due rows, leaving out `exclude` (rows this sender is still sending). The
     * claim's lease is when the rows become due again, and names the claim: it is later than every
     * lease held now, so two claims never share one (not even in the same millisecond), and a row
     * taken over gets a later lease than the one it had.
     */
    claimDue(now: number, leaseMs: number, limit: number, exclude: readonly number[] = []): Claim {
      return claimWithLease.immediate(now, leaseMs, limit, JSON.stringify(exclude));
    },
    // Outcomes: each is recorded for the claim with this lease only, and says false (having changed
    // nothing) when that claim no longer holds the row.
    markSent(id: number, lease: number, response: string, now: number): boolean {
      return sent.run({ id, lease, response: response.slice(0, 500), now }).changes === 1;
    },
    scheduleRetry(id: number, lease: number, error: string, nextAttemptAt: number): boolean {
      return retry.run({ id, lease, error, nextAttemptAt }).changes === 1;
    },
    markFailed(id: number, lease: number, state: 'failed' | 'dead', error: string): boolean {
      return fail.run({ id, lease, state, error }).changes === 1;
    },
    /** Puts a claimed row back as it was, the attempt not counted (it never reached the relay's judgement). */
    requeue(id: number, lease: number, error: string): boolean {
      return requeue.run({ id, lease, error }).changes === 1;
    },
    /**
     * Gives back rows a claim took and never handed to the relay (its sender is stopping): queued,
     * due at once, the attempt not counted, for any sender to claim. Returns how many it released.
     */
    release(lease: number, ids: readonly number[]): number {
      return ids.length === 0 ? 0 : release.run({ lease, ids: JSON.stringify(ids) }).changes;
    },
    /** Stops all sending until resumed: the relay refused our credentials, so every mail would fail. */
    pause(reason: string, now: number, relay: string | null): void {
      pause.run({ reason, now, relay });
    },
    resume(): boolean {
      return resume.run().changes > 0;
    },
    paused(): { reason: string; pausedAt: number; relay: string | null } | undefined {
      return paused.get() as { reason: string; pausedAt: number; relay: string | null } | undefined;
    },
    /** Every row after `afterId`, in id order, `limit` at a time: for a pass over all mail (an erasure). */
    page(afterId: number, limit: number): Array<Pick<OutboxRow, 'id' | 'kind' | 'recipient' | 'params'>> {
      return (page.all(afterId, limit) as Array<{ id: number; kind: string; recipient: string; params: string }>).map(
        (r) => ({ ...r, params: JSON.parse(r.params) as Record<string, unknown> }),
      );
    },
    remove(id: number): boolean {
      return remove.run(id).changes > 0;
    },
    /** Deletes mail sent, failed or dead at or before `cutoff` (except digests); returns how many. */
    pruneFinished(cutoff: number): number {
      return prune.run(cutoff).changes;
    },
    /** Deletes every mail about these signatures (queued or not): they are being anonymised. */
    forgetSignatures(signatureIds: number[]): number {
      return signatureIds.length === 0 ? 0 : forgetSignatures.run(JSON.stringify(signatureIds)).changes;
    },
    /** When the next row becomes due, or null when nothing waits. */
    nextDueAt(): number | null {
      return nextDue.pluck().get() as number | null;
    },
  };
}
