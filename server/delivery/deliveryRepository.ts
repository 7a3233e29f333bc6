import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

export type BatchState = 'queued' | 'sent' | 'failed' | 'dead';

/** Signatures not yet in a batch for a target, grouped by petition × target. */
export interface PendingGroup {
  petitionId: number;
  targetId: number;
  targetEmail: string | null;
  /** How many wait. */
  count: number;
  oldestValidatedAt: number;
}

export interface Batch {
  id: number;
  petitionId: number;
  targetId: number;
  state: BatchState;
  signatureCount: number;
  runningTotal: number;
  messageId: string | null;
  csvSha256: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface BatchSigner {
  name: string;
  postcode: string | null;
  country: string;
  validatedAt: number;
  /** The wording the signer agreed to: it says whether their postcode goes to the delegations. */
  consentVersion: string;
}

export interface BatchStatus {
  id: number;
  target: string;
  country: string;
  petition: string;
  signatures: number;
  state: BatchState;
  attempts: number;
  lastError: string | null;
  createdAt: number;
}

export interface DigestTarget {
  id: number;
  name: string;
  country: string;
  email: string | null;
  languages: string;
}

/**
 * Who receives a validated signature: the default target of the signer's country (its NATO
 * delegation) and every petition-wide target. Pairs already in a batch for that target are left out.
 */
const unbatchedPairs = sql`
  SELECT s.petition_id, t.id AS target_id, s.id AS signature_id, s.validated_at
  FROM signatures s
  JOIN targets t ON t.country_code = s.country_code AND t.is_default = 1
  WHERE s.state = 'validated'
    AND NOT EXISTS (SELECT 1 FROM batch_signatures b WHERE b.target_id = t.id AND b.signature_id = s.id)
  UNION ALL
  SELECT s.petition_id, pt.target_id, s.id, s.validated_at
  FROM signatures s
  JOIN petition_targets pt ON pt.petition_id = s.petition_id
  JOIN targets t ON t.id = pt.target_id AND NOT (t.is_default = 1 AND t.country_code = s.country_code)
  WHERE s.state = 'validated'
    AND NOT EXISTS (SELECT 1 FROM batch_signatures b WHERE b.target_id = pt.target_id AND b.signature_id = s.id)`;

// One pass over what waits, rather than one query per petition × target.
const groups = prepared(
  () =>
    sql<{ petitionId: number; targetId: number; count: number; oldest: number }>`SELECT petition_id AS "petitionId",
       target_id AS "targetId", count(*) AS count, min(validated_at) AS oldest
     FROM (${unbatchedPairs}) pairs
     GROUP BY petition_id, target_id ORDER BY petition_id, target_id`,
);
const targetEmails = prepared((qb) => qb.selectFrom('targets').select(['id', 'email']));
const previousTotal = prepared((qb, p: Params<{ petitionId: number; targetId: number }>) =>
  qb
    .selectFrom('batches')
    .select(sql<number>`coalesce(max(running_total), 0)`.as('total'))
    .where('petition_id', '=', p.petitionId)
    .where('target_id', '=', p.targetId),
);
const insertBatch = prepared((qb, p: Params<{ petitionId: number; targetId: number; now: number }>) =>
  qb
    .insertInto('batches')
    .values({
      petition_id: p.petitionId,
      target_id: p.targetId,
      signature_count: 0,
      running_total: 0,
      created_at: p.now,
    })
    .returning('id'),
);
/**
 * Puts the first `limit` signatures (in signature order: the digest's) that wait for this
 * petition × target into a batch. The database picks them, so no id list travels to it and back.
 * ON CONFLICT on the target × signature key: on PostgreSQL a planner racing another waits for the
 * other's commit at the key, then leaves out what the other took.
 */
const insertMembers = prepared(
  (_qb, p: Params<{ petitionId: number; targetId: number; batchId: number; limit: number }>) =>
    sql`INSERT INTO batch_signatures (target_id, signature_id, batch_id)
     SELECT target_id, signature_id, CAST(${p.batchId} AS BIGINT) FROM (${unbatchedPairs}) pairs
     WHERE petition_id = ${p.petitionId} AND target_id = ${p.targetId}
     ORDER BY signature_id LIMIT ${p.limit}
     ON CONFLICT DO NOTHING`,
);
const dropBatch = prepared((qb, p: Params<{ batchId: number }>) =>
  qb.deleteFrom('batches').where('id', '=', p.batchId),
);
const sealBatch = prepared(
  (qb, p: Params<{ batchId: number; count: number; total: number; outboxId: number; messageId: string }>) =>
    qb
      .updateTable('batches')
      .set({ signature_count: p.count, running_total: p.total, outbox_id: p.outboxId, message_id: p.messageId })
      .where('id', '=', p.batchId),
);
const byId = prepared(
  (_qb, p: Params<{ id: number }>) =>
    sql<Batch>`SELECT id, petition_id AS "petitionId", target_id AS "targetId", state,
       signature_count AS "signatureCount", running_total AS "runningTotal", message_id AS "messageId",
       csv_sha256 AS "csvSha256", created_at AS "createdAt", sent_at AS "sentAt"
     FROM batches WHERE id = ${p.id}`,
);
const signers = prepared(
  (_qb, p: Params<{ batchId: number }>) =>
    sql<BatchSigner>`SELECT s.name, s.postcode, s.country_code AS country, s.validated_at AS "validatedAt",
       s.consent_version AS "consentVersion"
     FROM batch_signatures b JOIN signatures s ON s.id = b.signature_id
     WHERE b.batch_id = ${p.batchId} AND s.state = 'validated' ORDER BY b.signature_id`,
);
const target = prepared((qb, p: Params<{ id: number }>) =>
  qb
    .selectFrom('targets')
    .select(['id', 'name', 'country_code as country', 'email', 'languages'])
    .where('id', '=', p.id),
);
const markSent = prepared((qb, p: Params<{ batchId: number; now: number }>) =>
  qb.updateTable('batches').set({ state: 'sent', sent_at: p.now }).where('id', '=', p.batchId),
);
const recordRendered = prepared((qb, p: Params<{ batchId: number; sha: string; count: number; total: number }>) =>
  qb
    .updateTable('batches')
    .set({ csv_sha256: p.sha, signature_count: p.count, running_total: p.total })
    .where('id', '=', p.batchId),
);
const sentBefore = prepared((qb, p: Params<{ petitionId: number; targetId: number; batchId: number }>) =>
  qb
    .selectFrom('batches')
    .select(sql<number>`coalesce(sum(signature_count), 0)`.as('total'))
    .where('petition_id', '=', p.petitionId)
    .where('target_id', '=', p.targetId)
    .where('id', '<', p.batchId)
    .where('state', 'not in', ['failed', 'dead']),
);
const unbatchMembers = prepared((qb, p: Params<{ batchId: number }>) =>
  qb.deleteFrom('batch_signatures').where('batch_id', '=', p.batchId),
);
const unbatch = prepared((qb, p: Params<{ batchId: number }>) =>
  qb.updateTable('batches').set({ state: 'failed', signature_count: 0, running_total: 0 }).where('id', '=', p.batchId),
);
const markFailed = prepared((qb, p: Params<{ batchId: number; state: 'failed' | 'dead' }>) =>
  qb.updateTable('batches').set({ state: p.state }).where('id', '=', p.batchId),
);

export type DeliveryRepository = ReturnType<typeof deliveryRepository>;

/** Batches and their digests on the store: on the database, or inside a caller's transaction. */
export function deliveryRepository(db: Executor) {
  return {
    /** Signatures held back because their target has no address yet. */
    awaitingAddress(
      petitionId: number | null = null,
    ): Promise<Array<{ target: string; country: string; count: number }>> {
      const onePetition = petitionId === null ? sql`` : sql`AND p.petition_id = ${petitionId}`;
      return db.all(
        sql<{ target: string; country: string; count: number }>`SELECT t.name AS target,
           t.country_code AS country, count(*) AS count
         FROM (${unbatchedPairs}) p JOIN targets t ON t.id = p.target_id
         WHERE (t.email IS NULL OR t.email = '') ${onePetition}
         GROUP BY t.id ORDER BY t.country_code`,
      );
    },
    async pendingGroups(): Promise<PendingGroup[]> {
      const emails = new Map((await db.all(targetEmails)).map((t) => [Number(t.id), t.email]));
      return (await db.all(groups)).map((g) => ({
        petitionId: g.petitionId,
        targetId: g.targetId,
        targetEmail: emails.get(g.targetId) ?? null,
        count: g.count,
        oldestValidatedAt: g.oldest,
      }));
    },
    /**
     * Creates a batch of the first `limit` signatures that wait for a petition × target, in the
     * caller's transaction with the outbox row it seals in. The batch_signatures key (target ×
     * signature) keeps each signature in one batch per target: a signature another planner batched
     * meanwhile is left out. Answers the batch and how many signatures it holds; a batch that would
     * hold none is not made (null).
     */
    async createBatch(
      petitionId: number,
      targetId: number,
      limit: number,
      now: number,
    ): Promise<{ batchId: number; count: number } | null> {
      const batchId = Number((await db.first(insertBatch, { petitionId, targetId, now }))!.id);
      const count = await db.run(insertMembers, { petitionId, targetId, batchId, limit });
      if (count > 0) return { batchId, count };
      await db.run(dropBatch, { batchId });
      return null;
    },
    async sealBatch(
      batchId: number,
      petitionId: number,
      targetId: number,
      count: number,
      outboxId: number,
      messageId: string,
    ): Promise<void> {
      const total = (await db.first(previousTotal, { petitionId, targetId }))!.total + count;
      await db.run(sealBatch, { batchId, count, total, outboxId, messageId });
    },
    batch: (id: number): Promise<Batch | undefined> => db.first(byId, { id }),
    // A digest can hold 10,000 signers: read in one query, in signature order.
    signers: (batchId: number): Promise<BatchSigner[]> => db.all(signers, { batchId }),
    target: (id: number): Promise<DigestTarget | undefined> => db.first(target, { id }),
    /**
     * What a digest carried when it was sent: its checksum, and its counts (signatures invalidated or
     * erased between batching and sending were left out).
     */
    async recordRendered(batchId: number, rendered: { sha: string; count: number; total: number }): Promise<void> {
      await db.run(recordRendered, { batchId, ...rendered });
    },
    /** Signatures in the earlier batches of this petition × target that were sent or are on their way. */
    async sentBefore(petitionId: number, targetId: number, batchId: number): Promise<number> {
      return (await db.first(sentBefore, { petitionId, targetId, batchId }))!.total;
    },
    /**
     * Gives a batch's signatures back, to be batched again once their target has an address; the
     * batch stays, failed and empty, to say what happened. Call in a transaction.
     */
    async unbatch(batchId: number): Promise<void> {
      await db.run(unbatchMembers, { batchId });
      await db.run(unbatch, { batchId });
    },
    async markSent(batchId: number, now: number): Promise<void> {
      await db.run(markSent, { batchId, now });
    },
    async markFailed(batchId: number, state: 'failed' | 'dead'): Promise<void> {
      await db.run(markFailed, { batchId, state });
    },
    /** The latest batches, of one petition or of all. */
    status(limit = 200, petitionId: number | null = null): Promise<BatchStatus[]> {
      const onePetition = petitionId === null ? sql`` : sql`WHERE b.petition_id = ${petitionId}`;
      return db.all(
        sql<BatchStatus>`SELECT b.id, t.name AS target, t.country_code AS country, p.slug AS petition,
           b.signature_count AS signatures, b.state, coalesce(o.attempts, 0) AS attempts,
           o.last_error AS "lastError", b.created_at AS "createdAt"
         FROM batches b
         JOIN targets t ON t.id = b.target_id
         JOIN petitions p ON p.id = b.petition_id
         LEFT JOIN outbox o ON o.id = b.outbox_id
         ${onePetition}
         ORDER BY b.id DESC LIMIT ${limit}`,
      );
    },
  };
}
