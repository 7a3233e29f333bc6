import crypto from 'node:crypto';
import type { Executor } from '../../server/db/store';

export interface BatchRow {
  petitionSlug: string;
  /** The batch goes to this country's default target (its delegation to NATO). */
  country: string;
  channel: 'email' | 'post';
  state?: 'queued' | 'sent' | 'failed' | 'dead';
  signatureIds: number[];
  letterCount?: number;
  createdAt?: number;
  sentAt?: number | null;
  handedInAt?: number | null;
  /** The CSV's SHA-256; by default a hash of the batch's description, unique per call. */
  sha?: string | null;
}

let made = 0;

/**
 * A batch written straight to the database, with its members, as a digest or a recorded pack
 * leaves it: for tests of what the public sees, independent of how batches are planned.
 * Answers its id and SHA-256.
 */
export async function insertBatch(store: Executor, b: BatchRow): Promise<{ id: number; sha: string | null }> {
  const sha =
    b.sha === undefined
      ? crypto
          .createHash('sha256')
          .update(`batch ${++made} ${JSON.stringify(b)}`)
          .digest('hex')
      : b.sha;
  const id = await store.transaction(async (tx) => {
    const petition = await tx.first(tx.qb.selectFrom('petitions').select('id').where('slug', '=', b.petitionSlug));
    const target = await tx.first(
      tx.qb.selectFrom('targets').select('id').where('country_code', '=', b.country).where('is_default', '=', 1),
    );
    const previous = await tx.first(
      tx.qb
        .selectFrom('batches')
        .select(({ fn }) => fn.max('running_total').as('total'))
        .where('petition_id', '=', petition!.id)
        .where('target_id', '=', target!.id),
    );
    const createdAt = b.createdAt ?? Date.now();
    const row = await tx.first(
      tx.qb
        .insertInto('batches')
        .values({
          petition_id: petition!.id,
          target_id: target!.id,
          state: b.state ?? 'sent',
          channel: b.channel,
          signature_count: b.signatureIds.length,
          running_total: Number(previous?.total ?? 0) + b.signatureIds.length,
          letter_count: b.letterCount ?? 0,
          csv_sha256: sha,
          created_at: createdAt,
          sent_at: b.sentAt === undefined ? createdAt : b.sentAt,
          handed_in_at: b.handedInAt ?? null,
          handed_in_how: b.channel === 'post' && b.handedInAt ? 'by hand' : null,
          recorded_at: b.channel === 'post' && b.handedInAt ? createdAt : null,
        })
        .returning('id'),
    );
    for (const signatureId of b.signatureIds) {
      await tx.run(
        tx.qb
          .insertInto('batch_signatures')
          .values({ target_id: target!.id, signature_id: signatureId, batch_id: row!.id }),
      );
    }
    return row!.id;
  });
  return { id, sha };
}
