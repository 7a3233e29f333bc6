import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

export type BatchState = 'queued' | 'sent' | 'failed' | 'dead';
export type Channel = 'email' | 'post';

/** Signatures not yet in a batch for a target, grouped by petition × target. */
export interface PendingGroup {
  petitionId: number;
  targetId: number;
  targetEmail: string | null;
  /** Where a hand-in pack goes (null: none known), and whether the target wants paper even with an email. */
  targetPostal: string | null;
  forcePost: boolean;
  /** How many signatures wait (0 when only letters do). */
  count: number;
  /** When the oldest waiting signature was validated (null when none waits). */
  oldestValidatedAt: number | null;
  /** Confirmed letters that travel by post and wait for this target's next pack for this petition. */
  letters: number;
  oldestLetterAt: number | null;
}

export interface Batch {
  id: number;
  petitionId: number;
  targetId: number;
  state: BatchState;
  channel: Channel;
  signatureCount: number;
  letterCount: number;
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
  letters: number;
  channel: Channel;
  state: BatchState;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  /** The day a pack was handed in or posted, as recorded (null for digests and packs not yet recorded). */
  handedInAt: number | null;
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
/**
 * The petition a post letter travels with: the first open petition (by id) of the letter's demand.
 * A letter whose demand has no open petition waits.
 */
const letterPetition = sql`(SELECT min(lp.id) FROM petitions lp WHERE lp.demand_id = l.demand_id AND lp.state = 'open')`;
/** Confirmed letters that travel by post and are in no pack yet. */
const waitingLetters = sql`FROM letters l
  WHERE l.delivery = 'post' AND l.state = 'ready'
    AND NOT EXISTS (SELECT 1 FROM batch_letters bl WHERE bl.letter_id = l.id)`;
const letterGroups = prepared(
  () =>
    sql<{ petitionId: number; targetId: number; count: number; oldest: number }>`SELECT petition_id AS "petitionId",
       target_id AS "targetId", count(*) AS count, min(confirmed_at) AS oldest
     FROM (SELECT ${letterPetition} AS petition_id, l.target_id, l.confirmed_at ${waitingLetters}) w
     WHERE petition_id IS NOT NULL
     GROUP BY petition_id, target_id`,
);
const targetChannels = prepared((qb) =>
  qb.selectFrom('targets').select(['id', 'email', 'postal_address as postal', 'force_post as forcePost']),
);
const previousTotal = prepared((qb, p: Params<{ petitionId: number; targetId: number }>) =>
  qb
    .selectFrom('batches')
    .select(sql<number>`coalesce(max(running_total), 0)`.as('total'))
    .where('petition_id', '=', p.petitionId)
    .where('target_id', '=', p.targetId),
);
const insertBatch = prepared((qb, p: Params<{ petitionId: number; targetId: number; now: number; channel: Channel }>) =>
  qb
    .insertInto('batches')
    .values({
      petition_id: p.petitionId,
      target_id: p.targetId,
      channel: p.channel,
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
/** The waiting post letters of this target that travel with this petition join the pack. */
const attachLetters = prepared(
  (_qb, p: Params<{ petitionId: number; targetId: number; batchId: number }>) =>
    sql`INSERT INTO batch_letters (letter_id, batch_id)
     SELECT l.id, CAST(${p.batchId} AS BIGINT) ${waitingLetters}
       AND l.target_id = ${p.targetId} AND ${letterPetition} = ${p.petitionId}
     ON CONFLICT DO NOTHING`,
);
const sealPack = prepared((qb, p: Params<{ batchId: number; count: number; letters: number; total: number }>) =>
  qb
    .updateTable('batches')
    .set({ signature_count: p.count, letter_count: p.letters, running_total: p.total })
    .where('id', '=', p.batchId),
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
    sql<Batch>`SELECT id, petition_id AS "petitionId", target_id AS "targetId", state, channel,
       signature_count AS "signatureCount", letter_count AS "letterCount", running_total AS "runningTotal", message_id AS "messageId",
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
         WHERE coalesce(trim(t.email), '') = '' AND coalesce(trim(t.postal_address), '') = '' ${onePetition}
         GROUP BY t.id ORDER BY t.country_code`,
      );
    },
    /** What waits, per petition × target: signatures, and letters that travel by post. */
    async pendingGroups(): Promise<PendingGroup[]> {
      const targets = new Map((await db.all(targetChannels)).map((t) => [Number(t.id), t]));
      const byKey = new Map<string, PendingGroup>();
      const group = (petitionId: number, targetId: number): PendingGroup => {
        const key = `${petitionId}:${targetId}`;
        let g = byKey.get(key);
        if (!g) {
          const t = targets.get(targetId);
          g = {
            petitionId,
            targetId,
            targetEmail: t?.email ?? null,
            targetPostal: t?.postal ?? null,
            forcePost: t?.forcePost === 1,
            count: 0,
            oldestValidatedAt: null,
            letters: 0,
            oldestLetterAt: null,
          };
          byKey.set(key, g);
        }
        return g;
      };
      for (const s of await db.all(groups)) {
        Object.assign(group(s.petitionId, s.targetId), { count: s.count, oldestValidatedAt: s.oldest });
      }
      for (const l of await db.all(letterGroups)) {
        Object.assign(group(Number(l.petitionId), l.targetId), { letters: l.count, oldestLetterAt: l.oldest });
      }
      return [...byKey.values()].sort((a, b) => a.petitionId - b.petitionId || a.targetId - b.targetId);
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
      const batchId = Number((await db.first(insertBatch, { petitionId, targetId, now, channel: 'email' }))!.id);
      const count = await db.run(insertMembers, { petitionId, targetId, batchId, limit });
      if (count > 0) return { batchId, count };
      await db.run(dropBatch, { batchId });
      return null;
    },
    /**
     * A hand-in pack: a postal batch of the first `limit` waiting signatures under the same target ×
     * signature key as a digest (so a signature is in one batch per target whatever the channel),
     * with the target's waiting post letters for this petition when `withLetters`. No outbox row: a
     * queued pack is due to be printed and handed in. Sealed with its counts and running total; null
     * when it would hold nothing.
     */
    async createPack(
      petitionId: number,
      targetId: number,
      limit: number,
      withLetters: boolean,
      now: number,
    ): Promise<{ batchId: number; count: number; letters: number } | null> {
      const batchId = Number((await db.first(insertBatch, { petitionId, targetId, now, channel: 'post' }))!.id);
      const count = limit > 0 ? await db.run(insertMembers, { petitionId, targetId, batchId, limit }) : 0;
      const letters = withLetters ? await db.run(attachLetters, { petitionId, targetId, batchId }) : 0;
      if (count === 0 && letters === 0) {
        await db.run(dropBatch, { batchId });
        return null;
      }
      const total = (await db.first(previousTotal, { petitionId, targetId }))!.total + count;
      await db.run(sealPack, { batchId, count, letters, total });
      return { batchId, count, letters };
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
           b.signature_count AS signatures, b.letter_count AS letters, b.channel, b.state, coalesce(o.attempts, 0) AS attempts,
           o.last_error AS "lastError", b.created_at AS "createdAt", b.handed_in_at AS "handedInAt"
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
