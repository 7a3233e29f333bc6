import type { Database } from '../db/database';

export type BatchState = 'queued' | 'sent' | 'failed' | 'dead';

/** Signatures not yet in a batch for a target, grouped by petition × target. */
export interface PendingGroup {
  petitionId: number;
  targetId: number;
  targetEmail: string | null;
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
  const pending = db.prepare(
    `SELECT p.petition_id AS petitionId, p.target_id AS targetId, t.email AS targetEmail,
            count(*) AS count, min(p.validated_at) AS oldestValidatedAt
     FROM (${unbatchedPairs}) p JOIN targets t ON t.id = p.target_id
     GROUP BY p.petition_id, p.target_id ORDER BY p.petition_id, p.target_id`,
  );
  const previousTotal = db.prepare(
    'SELECT coalesce(max(running_total), 0) FROM batches WHERE petition_id = ? AND target_id = ?',
  );
  const insertBatch = db.prepare(
    `INSERT INTO batches (petition_id, target_id, signature_count, running_total, created_at)
     VALUES (@petitionId, @targetId, 0, 0, @now)`,
  );
  const fillBatch = db.prepare(
    `INSERT INTO batch_signatures (target_id, signature_id, batch_id)
     SELECT target_id, signature_id, @batchId FROM (${unbatchedPairs})
     WHERE petition_id = @petitionId AND target_id = @targetId
     ORDER BY signature_id LIMIT @limit`,
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
  const signers = db.prepare(
    `SELECT s.name, s.postcode, s.country_code AS country, s.validated_at AS validatedAt
     FROM batch_signatures b JOIN signatures s ON s.id = b.signature_id
     WHERE b.batch_id = ? ORDER BY b.signature_id`,
  );
  const target = db.prepare('SELECT id, name, country_code AS country, email, languages FROM targets WHERE id = ?');
  const markSent = db.prepare(
    `UPDATE batches SET state = 'sent', sent_at = @now, csv_sha256 = coalesce(@sha, csv_sha256) WHERE id = @batchId`,
  );
  const recordSha = db.prepare('UPDATE batches SET csv_sha256 = @sha WHERE id = @batchId');
  const markFailed = db.prepare('UPDATE batches SET state = @state WHERE id = @batchId');
  const status = db.prepare(
    `SELECT b.id, t.name AS target, t.country_code AS country, p.slug AS petition, b.signature_count AS signatures,
            b.state, coalesce(o.attempts, 0) AS attempts, o.last_error AS lastError, b.created_at AS createdAt
     FROM batches b
     JOIN targets t ON t.id = b.target_id
     JOIN petitions p ON p.id = b.petition_id
     LEFT JOIN outbox o ON o.id = b.outbox_id
     ORDER BY b.id DESC LIMIT ?`,
  );

  const awaiting = db.prepare(
    `SELECT t.name AS target, t.country_code AS country, count(*) AS count
     FROM (${unbatchedPairs}) p JOIN targets t ON t.id = p.target_id
     WHERE t.email IS NULL OR t.email = '' GROUP BY t.id ORDER BY t.country_code`,
  );

  return {
    /** Signatures held back because their target has no address yet. */
    awaitingAddress(): Array<{ target: string; country: string; count: number }> {
      return awaiting.all() as Array<{ target: string; country: string; count: number }>;
    },
    pendingGroups(): PendingGroup[] {
      return pending.all() as PendingGroup[];
    },
    /**
     * Creates one batch of up to `limit` unbatched signatures for a petition × target. Call in a
     * transaction with the outbox row it seals in; the batch_signatures primary key makes a second
     * runner's attempt fail rather than batch a signature twice.
     */
    createBatch(petitionId: number, targetId: number, limit: number, now: number): { batchId: number; count: number } {
      const batchId = Number(insertBatch.run({ petitionId, targetId, now }).lastInsertRowid);
      const count = fillBatch.run({ batchId, petitionId, targetId, limit }).changes;
      return { batchId, count };
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
      return signers.all(batchId) as BatchSigner[];
    },
    target(id: number): DigestTarget | undefined {
      return target.get(id) as DigestTarget | undefined;
    },
    recordSha(batchId: number, sha: string): void {
      recordSha.run({ batchId, sha });
    },
    markSent(batchId: number, now: number): void {
      markSent.run({ batchId, now, sha: null });
    },
    markFailed(batchId: number, state: 'failed' | 'dead'): void {
      markFailed.run({ batchId, state });
    },
    status(limit = 200): BatchStatus[] {
      return status.all(limit) as BatchStatus[];
    },
  };
}
