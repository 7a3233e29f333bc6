import type { Database } from '../db/database';

export type BatchState = 'queued' | 'sent' | 'failed' | 'dead';

/** Signatures not yet in a batch for a target, grouped by petition × target. */
export interface PendingGroup {
  petitionId: number;
  targetId: number;
  targetEmail: string | null;
  /** In signature order: the order of the digest's rows. */
  signatureIds: number[];
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
const unbatchedPairs = `
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

export type DeliveryRepository = ReturnType<typeof deliveryRepository>;

export function deliveryRepository(db: Database) {
  // One pass over what waits, rather than one query per petition × target.
  const pairs = db
    .prepare(
      `SELECT petition_id, target_id, signature_id, validated_at FROM (${unbatchedPairs})
       ORDER BY petition_id, target_id, signature_id`,
    )
    .raw();
  const targetEmails = db.prepare('SELECT id, email FROM targets').raw();
  const previousTotal = db.prepare(
    'SELECT coalesce(max(running_total), 0) FROM batches WHERE petition_id = ? AND target_id = ?',
  );
  const insertBatch = db.prepare(
    `INSERT INTO batches (petition_id, target_id, signature_count, running_total, created_at)
     VALUES (@petitionId, @targetId, 0, 0, @now)`,
  );
  // One statement per batch: a JSON array of ids is far cheaper than a statement per signature.
  const insertMembers = db.prepare(
    'INSERT INTO batch_signatures (target_id, signature_id, batch_id) SELECT ?, value, ? FROM json_each(?)',
  );
  const sealBatch = db.prepare(
    `UPDATE batches SET signature_count = @count, running_total = @total, outbox_id = @outboxId, message_id = @messageId
     WHERE id = @batchId`,
  );
  const byId = db.prepare(
    `SELECT id, petition_id AS petitionId, target_id AS targetId, state, signature_count AS signatureCount,
            running_total AS runningTotal, message_id AS messageId, csv_sha256 AS csvSha256,
            created_at AS createdAt, sent_at AS sentAt
     FROM batches WHERE id = ?`,
  );
  const signers = db
    .prepare(
      `SELECT s.name, s.postcode, s.country_code, s.validated_at, s.consent_version
       FROM batch_signatures b JOIN signatures s ON s.id = b.signature_id
       WHERE b.batch_id = ? AND s.state = 'validated' ORDER BY b.signature_id`,
    )
    .raw();
  const target = db.prepare('SELECT id, name, country_code AS country, email, languages FROM targets WHERE id = ?');
  const markSent = db.prepare(
    `UPDATE batches SET state = 'sent', sent_at = @now, csv_sha256 = coalesce(@sha, csv_sha256) WHERE id = @batchId`,
  );
  const recordRendered = db.prepare(
    'UPDATE batches SET csv_sha256 = @sha, signature_count = @count, running_total = @total WHERE id = @batchId',
  );
  const sentBefore = db.prepare(
    `SELECT coalesce(sum(signature_count), 0) FROM batches
     WHERE petition_id = ? AND target_id = ? AND id < ? AND state NOT IN ('failed', 'dead')`,
  );
  const unbatchMembers = db.prepare('DELETE FROM batch_signatures WHERE batch_id = ?');
  const unbatch = db.prepare(
    "UPDATE batches SET state = 'failed', signature_count = 0, running_total = 0 WHERE id = ?",
  );
  const markFailed = db.prepare('UPDATE batches SET state = @state WHERE id = @batchId');
  const status = db.prepare(
    `SELECT b.id, t.name AS target, t.country_code AS country, p.slug AS petition, b.signature_count AS signatures,
            b.state, coalesce(o.attempts, 0) AS attempts, o.last_error AS lastError, b.created_at AS createdAt
     FROM batches b
     JOIN targets t ON t.id = b.target_id
     JOIN petitions p ON p.id = b.petition_id
     LEFT JOIN outbox o ON o.id = b.outbox_id
     WHERE @petitionId IS NULL OR b.petition_id = @petitionId
     ORDER BY b.id DESC LIMIT @limit`,
  );

  const awaiting = db.prepare(
    `SELECT t.name AS target, t.country_code AS country, count(*) AS count
     FROM (${unbatchedPairs}) p JOIN targets t ON t.id = p.target_id
     WHERE (t.email IS NULL OR t.email = '') AND (@petitionId IS NULL OR p.petition_id = @petitionId)
     GROUP BY t.id ORDER BY t.country_code`,
  );

  return {
    /** Signatures held back because their target has no address yet. */
    awaitingAddress(petitionId: number | null = null): Array<{ target: string; country: string; count: number }> {
      return awaiting.all({ petitionId }) as Array<{ target: string; country: string; count: number }>;
    },
    pendingGroups(): PendingGroup[] {
      const emails = new Map(targetEmails.all() as Array<[number, string | null]>);
      const groups: PendingGroup[] = [];
      let group: PendingGroup | undefined;
      for (const [petitionId, targetId, signatureId, validatedAt] of pairs.all() as number[][]) {
        if (!group || group.petitionId !== petitionId || group.targetId !== targetId) {
          group = {
            petitionId: petitionId!,
            targetId: targetId!,
            targetEmail: emails.get(targetId!) ?? null,
            signatureIds: [],
            oldestValidatedAt: validatedAt!,
          };
          groups.push(group);
        }
        group.signatureIds.push(signatureId!);
        if (validatedAt! < group.oldestValidatedAt) group.oldestValidatedAt = validatedAt!;
      }
      return groups;
    },
    /**
     * Creates a batch of these signatures for a petition × target. Call in a transaction with the
     * outbox row it seals in; the batch_signatures primary key makes a second runner's attempt fail
     * rather than batch a signature twice.
     */
    createBatch(petitionId: number, targetId: number, signatureIds: number[], now: number): number {
      const batchId = Number(insertBatch.run({ petitionId, targetId, now }).lastInsertRowid);
      insertMembers.run(targetId, batchId, JSON.stringify(signatureIds));
      return batchId;
    },
    sealBatch(
      batchId: number,
      petitionId: number,
      targetId: number,
      count: number,
      outboxId: number,
      messageId: string,
    ) {
      const total = (previousTotal.pluck().get(petitionId, targetId) as number) + count;
      sealBatch.run({ batchId, count, total, outboxId, messageId });
    },
    batch(id: number): Batch | undefined {
      return byId.get(id) as Batch | undefined;
    },
    signers(batchId: number): BatchSigner[] {
      // Raw rows: a digest can hold 10,000 of them, and objects per row cost more than the query.
      return (signers.all(batchId) as Array<[string, string | null, string, number, string]>).map(
        ([name, postcode, country, validatedAt, consentVersion]) => ({
          name,
          postcode,
          country,
          validatedAt,
          consentVersion,
        }),
      );
    },
    target(id: number): DigestTarget | undefined {
      return target.get(id) as DigestTarget | undefined;
    },
    /**
     * What a digest carried when it was sent: its checksum, and its counts (signatures invalidated or
     * erased between batching and sending were left out).
     */
    recordRendered(batchId: number, rendered: { sha: string; count: number; total: number }): void {
      recordRendered.run({ batchId, ...rendered });
    },
    /** Signatures in the earlier batches of this petition × target that were sent or are on their way. */
    sentBefore(petitionId: number, targetId: number, batchId: number): number {
      return sentBefore.pluck().get(petitionId, targetId, batchId) as number;
    },
    /**
     * Gives a batch's signatures back, to be batched again once their target has an address; the
     * batch stays, failed and empty, to say what happened.
     */
    unbatch(batchId: number): void {
      unbatchMembers.run(batchId);
      unbatch.run(batchId);
    },
    markSent(batchId: number, now: number): void {
      markSent.run({ batchId, now, sha: null });
    },
    markFailed(batchId: number, state: 'failed' | 'dead'): void {
      markFailed.run({ batchId, state });
    },
    /** The latest batches, of one petition or of all. */
    status(limit = 200, petitionId: number | null = null): BatchStatus[] {
      return status.all({ limit, petitionId }) as BatchStatus[];
    },
  };
}
