import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import type { Lang } from '../i18n/i18n';
import { textLang } from '../petitions/petitionsRepository';

export type Channel = 'email' | 'post';
export type BatchState = 'queued' | 'sent' | 'failed' | 'dead';

/** A delivery as anyone may see it: a batch, never who is in it. */
export interface DeliveryRow {
  batchId: number;
  petitionId: number;
  delegation: string;
  country: string;
  /** 1 when the target is its country's delegation (the one /delegations/<code> shows). */
  isDefault: number;
  channel: Channel;
  /** When the digest was accepted by the relay, or when a pack was recorded. */
  sentAt: number | null;
  /** The day a pack was handed in or posted, as the organiser recorded it. */
  handedInAt: number | null;
  signatures: number;
  letters: number;
  sha256: string | null;
}

/** A delivery with its petition, for a list that spans petitions. */
export interface TitledDeliveryRow extends DeliveryRow {
  petitionSlug: string;
  /** In the language asked for, else English. */
  petitionTitle: string;
}

/** A batch found by its CSV's SHA-256, in whatever state it is. */
export interface VerifiedRow extends TitledDeliveryRow {
  state: BatchState;
  createdAt: number;
  /** Its signatures that organisers invalidated after it was delivered (or, not delivered yet, planned). */
  invalidated: number;
}

/** Where one signature stands for one target: its batch, if it is in one. */
export interface StandingRow {
  delegation: string;
  country: string;
  batchId: number | null;
  state: BatchState | null;
  channel: Channel | null;
  sentAt: number | null;
  handedInAt: number | null;
}

const deliveryColumns = sql`b.id AS "batchId", b.petition_id AS "petitionId", t.name AS delegation,
  t.country_code AS country, t.is_default AS "isDefault", b.channel, b.sent_at AS "sentAt", b.handed_in_at AS "handedInAt",
  b.signature_count AS signatures, b.letter_count AS letters, b.csv_sha256 AS sha256`;

// Newest first: a pack's day as recorded, a digest's moment of sending.
const sentForPetition = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<DeliveryRow>`SELECT ${deliveryColumns}
     FROM batches b JOIN targets t ON t.id = b.target_id
     WHERE b.petition_id = ${p.petitionId} AND b.state = 'sent'
     ORDER BY coalesce(b.handed_in_at, b.sent_at) DESC, b.id DESC`,
);

/** The batch's petition, its title in the language asked for (else English). */
const withPetition = (lang: Lang) =>
  sql`JOIN petitions p ON p.id = b.petition_id
     JOIN petition_texts pt ON pt.petition_id = p.id AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', lang)}`;

// What one target received, every petition: newest first, like a petition's.
const sentToTarget = prepared(
  (_qb, p: Params<{ targetId: number; lang: Lang }>) =>
    sql<TitledDeliveryRow>`SELECT ${deliveryColumns}, p.slug AS "petitionSlug", pt.title AS "petitionTitle"
     FROM batches b JOIN targets t ON t.id = b.target_id ${withPetition(p.lang)}
     WHERE b.target_id = ${p.targetId} AND b.state = 'sent'
     ORDER BY coalesce(b.handed_in_at, b.sent_at) DESC, b.id DESC`,
);

// The prefix is lower-case hex, checked by the caller: no LIKE wildcard can be in it. A batch's
// invalidated signatures are those invalidated since it was sent (or, not sent yet, planned).
const byShaPrefix = prepared(
  (_qb, p: Params<{ pattern: string; lang: Lang }>) =>
    sql<VerifiedRow>`SELECT ${deliveryColumns}, b.state, b.created_at AS "createdAt",
       p.slug AS "petitionSlug", pt.title AS "petitionTitle",
       (SELECT count(*) FROM batch_signatures bs JOIN signatures s ON s.id = bs.signature_id
         WHERE bs.batch_id = b.id AND s.state = 'invalidated'
           AND s.invalidated_at >= coalesce(b.sent_at, b.created_at)) AS invalidated
     FROM batches b JOIN targets t ON t.id = b.target_id ${withPetition(p.lang)}
     WHERE b.csv_sha256 LIKE ${p.pattern}
     ORDER BY b.id LIMIT 10`,
);

// A signature reaches the default target of its country (the country's delegation to NATO).
const standing = prepared(
  (_qb, p: Params<{ signatureId: number; country: string }>) =>
    sql<StandingRow>`SELECT t.name AS delegation, t.country_code AS country, b.id AS "batchId", b.state,
       b.channel, b.sent_at AS "sentAt", b.handed_in_at AS "handedInAt"
     FROM targets t
     LEFT JOIN batch_signatures bs ON bs.target_id = t.id AND bs.signature_id = ${p.signatureId}
     LEFT JOIN batches b ON b.id = bs.batch_id
     WHERE t.country_code = ${p.country} AND t.is_default = 1
     ORDER BY t.id LIMIT 1`,
);

export type DeliveryRecordRepository = ReturnType<typeof deliveryRecordRepository>;

/** The public record of deliveries: read only, and nothing in it about any signer. */
export function deliveryRecordRepository(db: Executor) {
  return {
    /** A petition's delivered batches (digests sent, packs recorded), newest first. */
    sentForPetition: (petitionId: number): Promise<DeliveryRow[]> => db.all(sentForPetition, { petitionId }),

    /** A target's delivered batches, every petition (titled in `lang`), newest first. */
    sentToTarget: (targetId: number, lang: Lang): Promise<TitledDeliveryRow[]> =>
      db.all(sentToTarget, { targetId, lang }),

    /** Batches whose CSV's SHA-256 starts with `prefix` (lower-case hex), at most 10, titled in `lang`. */
    async byShaPrefix(prefix: string, lang: Lang): Promise<VerifiedRow[]> {
      const rows = await db.all(byShaPrefix, { pattern: `${prefix}%`, lang });
      return rows.map((row) => ({ ...row, invalidated: Number(row.invalidated) }));
    },

    /** Where a signature stands for its country's delegation; undefined when the country has none. */
    standing: (signatureId: number, country: string): Promise<StandingRow | undefined> =>
      db.first(standing, { signatureId, country }),
  };
}
