import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

/**
 * The outbox as erasure and retention see it: passes over all mail, and deletions, each in the
 * caller's transaction (`tx`). Portable SQL: `params` is TEXT holding JSON on both databases, so
 * what a mail is about is read in JavaScript, never with SQLite's JSON functions.
 */

export interface MailRow {
  id: number;
  kind: string;
  recipient: string;
  params: Record<string, unknown>;
}

const page = prepared((qb, p: Params<{ afterId: number; limit: number }>) =>
  qb
    .selectFrom('outbox')
    .select(['id', 'kind', 'recipient', 'params'])
    .where('id', '>', p.afterId)
    .orderBy('id')
    .limit(p.limit),
);
// Mail about a signature names it in its parameters (see signaturesService): `"signatureId":` in the
// JSON text finds the candidates, the parsed value decides.
const aboutSignatures = prepared((qb, p: Params<{ afterId: number; limit: number }>) =>
  qb
    .selectFrom('outbox')
    .select(['id', 'params'])
    .where('id', '>', p.afterId)
    .where('params', 'like', '%"signatureId":%')
    .orderBy('id')
    .limit(p.limit),
);
const remove = prepared((qb, p: Params<{ id: number }>) => qb.deleteFrom('outbox').where('id', '=', p.id));
// Finished mail, by when it was sent or last tried. A row a batch refers to is that batch's
// delivery record (a digest names no one: its signers are read when it is sent) and stays.
const prune = prepared(
  (_qb, p: Params<{ cutoff: number }>) =>
    sql`DELETE FROM outbox WHERE state IN ('sent', 'failed', 'dead') AND coalesce(sent_at, next_attempt_at) <= ${p.cutoff}
       AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.outbox_id = outbox.id)`,
);

const chunk = 500;

export type OutboxErasureRepository = ReturnType<typeof outboxErasureRepository>;

/** The outbox as erasure and retention see it, on their transaction (`tx`). */
export function outboxErasureRepository(tx: Executor) {
  return {
    /** Every mail after `afterId`, in id order, `limit` at a time: for a pass over all mail (an erasure). */
    async page(afterId: number, limit: number): Promise<MailRow[]> {
      return (await tx.all(page, { afterId, limit })).map((r) => ({
        ...r,
        params: JSON.parse(r.params) as Record<string, unknown>,
      }));
    },

    async remove(id: number): Promise<boolean> {
      return (await tx.run(remove, { id })) > 0;
    },

    /** Deletes every mail about these signatures (queued or not): they are being anonymised. Returns how many. */
    async forgetSignatureMail(signatureIds: readonly number[]): Promise<number> {
      if (signatureIds.length === 0) return 0;
      const ids = new Set(signatureIds);
      const doomed: number[] = [];
      for (let after = 0; ;) {
        const rows = await tx.all(aboutSignatures, { afterId: after, limit: chunk });
        if (rows.length === 0) break;
        for (const row of rows) {
          after = row.id;
          const about = (JSON.parse(row.params) as { signatureId?: unknown }).signatureId;
          if (typeof about === 'number' && ids.has(about)) doomed.push(row.id);
        }
      }
      let deleted = 0;
      for (let i = 0; i < doomed.length; i += chunk) {
        deleted += await tx.run(tx.qb.deleteFrom('outbox').where('id', 'in', doomed.slice(i, i + chunk)));
      }
      return deleted;
    },

    /** Deletes mail sent, failed or dead at or before `cutoff` (except digests' delivery records); returns how many. */
    pruneFinished: (cutoff: number): Promise<number> => tx.run(prune, { cutoff }),
  };
}
