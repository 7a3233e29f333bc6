import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import type { BatchSigner } from '../delivery/deliveryRepository';
import type { Lang } from '../i18n/i18n';
import { textLang } from '../petitions/petitionsRepository';

export type HandInHow = 'handed-in' | 'post' | 'courier';

/** A postal batch as the packs page and the CLI list it. */
export interface PackRow {
  id: number;
  petitionId: number;
  /** The petition's slug (in file names and the audit log). */
  petition: string;
  /** Its title, in the language asked for (else English). */
  petitionTitle: string;
  targetId: number;
  target: string;
  country: string;
  targetLanguages: string;
  postalAddress: string | null;
  signatures: number;
  letters: number;
  runningTotal: number;
  /** 'queued': due, to be handed in; 'sent': recorded as handed in or posted. */
  state: 'queued' | 'sent';
  createdAt: number;
  csvSha256: string | null;
  handedInAt: number | null;
  handedInHow: HandInHow | null;
  handedInReference: string | null;
  handedInNote: string | null;
  recordedAt: number | null;
  recordedBy: number | null;
}

export interface PackSignerRow extends BatchSigner {
  id: number;
}

export interface PackLetterRow {
  id: number;
  name: string;
  town: string | null;
  body: string;
  confirmedAt: number;
}

const packColumns = (lang: Lang) => sql`b.id, b.petition_id AS "petitionId", p.slug AS petition,
  pt.title AS "petitionTitle", b.target_id AS "targetId",
  t.name AS target, t.country_code AS country, t.languages AS "targetLanguages", t.postal_address AS "postalAddress",
  b.signature_count AS signatures, b.letter_count AS letters, b.running_total AS "runningTotal", b.state,
  b.created_at AS "createdAt", b.csv_sha256 AS "csvSha256", b.handed_in_at AS "handedInAt",
  b.handed_in_how AS "handedInHow", b.handed_in_reference AS "handedInReference", b.handed_in_note AS "handedInNote",
  b.recorded_at AS "recordedAt", b.recorded_by AS "recordedBy"
  FROM batches b JOIN targets t ON t.id = b.target_id JOIN petitions p ON p.id = b.petition_id
  JOIN petition_texts pt ON pt.petition_id = p.id AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', lang)}`;

const list = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<PackRow>`SELECT ${packColumns(p.lang)}
     WHERE b.channel = 'post' AND b.state IN ('queued', 'sent')
     ORDER BY t.country_code, t.name, b.id`,
);
const byId = prepared(
  (_qb, p: Params<{ id: number; lang: Lang }>) =>
    sql<PackRow>`SELECT ${packColumns(p.lang)} WHERE b.id = ${p.id} AND b.channel = 'post'`,
);
// Keyset pages: a pack of any size is read a page at a time, in signature order (the CSV's).
const signersPage = prepared(
  (_qb, p: Params<{ batchId: number; after: number; limit: number }>) =>
    sql<PackSignerRow>`SELECT s.id, s.name, s.postcode, s.country_code AS country, s.validated_at AS "validatedAt",
       s.consent_version AS "consentVersion"
     FROM batch_signatures b JOIN signatures s ON s.id = b.signature_id
     WHERE b.batch_id = ${p.batchId} AND b.signature_id > ${p.after} AND s.state = 'validated'
     ORDER BY b.signature_id LIMIT ${p.limit}`,
);
// Letters still standing (an erased writer's letter is deleted with its batch_letters row).
const lettersPage = prepared(
  (_qb, p: Params<{ batchId: number; after: number; limit: number }>) =>
    sql<PackLetterRow>`SELECT l.id, l.name, l.town, x.body, l.confirmed_at AS "confirmedAt"
     FROM batch_letters bl JOIN letters l ON l.id = bl.letter_id JOIN letter_texts x ON x.letter_id = l.id
     WHERE bl.batch_id = ${p.batchId} AND bl.letter_id > ${p.after} AND l.state IN ('ready', 'sent')
     ORDER BY bl.letter_id LIMIT ${p.limit}`,
);
const signerFigures = prepared(
  (_qb, p: Params<{ batchId: number; country: string }>) =>
    sql<{ count: number; fromCountry: number; first: number | null; last: number | null }>`SELECT count(*) AS count,
       coalesce(sum(CASE WHEN s.country_code = ${p.country} THEN 1 ELSE 0 END), 0) AS "fromCountry",
       min(s.validated_at) AS first, max(s.validated_at) AS last
     FROM batch_signatures b JOIN signatures s ON s.id = b.signature_id
     WHERE b.batch_id = ${p.batchId} AND s.state = 'validated'`,
);
const letterCount = prepared(
  (_qb, p: Params<{ batchId: number }>) =>
    sql<{ n: number }>`SELECT count(*) AS n FROM batch_letters bl JOIN letters l ON l.id = bl.letter_id
     WHERE bl.batch_id = ${p.batchId} AND l.state IN ('ready', 'sent')`,
);
/** Signatures of the petition organisers invalidated that would have gone to this target. */
const invalidated = prepared(
  (_qb, p: Params<{ petitionId: number; targetId: number }>) =>
    sql<{ n: number }>`SELECT count(*) AS n FROM signatures s
     WHERE s.petition_id = ${p.petitionId} AND s.state = 'invalidated'
       AND (EXISTS (SELECT 1 FROM targets t WHERE t.id = ${p.targetId} AND t.is_default = 1
                    AND t.country_code = s.country_code)
         OR EXISTS (SELECT 1 FROM petition_targets pt WHERE pt.petition_id = s.petition_id
                    AND pt.target_id = ${p.targetId}))`,
);
const earlier = prepared(
  (_qb, p: Params<{ petitionId: number; targetId: number; batchId: number }>) =>
    sql<{ n: number }>`SELECT coalesce(sum(signature_count), 0) AS n FROM batches
     WHERE petition_id = ${p.petitionId} AND target_id = ${p.targetId} AND id < ${p.batchId}
       AND state NOT IN ('failed', 'dead')`,
);
const setRendered = prepared((qb, p: Params<{ batchId: number; sha: string; count: number }>) =>
  qb
    .updateTable('batches')
    .set({ csv_sha256: p.sha, signature_count: p.count })
    .where('id', '=', p.batchId)
    .where('channel', '=', 'post')
    .where('state', '=', 'queued'),
);
type RecordArgs = {
  batchId: number;
  handedInAt: number;
  how: HandInHow;
  reference: string | null;
  note: string | null;
  now: number;
  by: number | null;
};
// Compare-and-set: only a pack still due is recorded (a second record changes nothing).
const record = prepared((qb, p: Params<RecordArgs>) =>
  qb
    .updateTable('batches')
    .set({
      state: 'sent',
      sent_at: p.now,
      handed_in_at: p.handedInAt,
      handed_in_how: p.how,
      handed_in_reference: p.reference,
      handed_in_note: p.note,
      recorded_at: p.now,
      recorded_by: p.by,
    })
    .where('id', '=', p.batchId)
    .where('channel', '=', 'post')
    .where('state', '=', 'queued'),
);
// Only within the undo window (recorded after `since`), and only once.
const undo = prepared((qb, p: Params<{ batchId: number; since: number }>) =>
  qb
    .updateTable('batches')
    .set({
      state: 'queued',
      sent_at: null,
      handed_in_at: null,
      handed_in_how: null,
      handed_in_reference: null,
      handed_in_note: null,
      recorded_at: null,
      recorded_by: null,
    })
    .where('id', '=', p.batchId)
    .where('channel', '=', 'post')
    .where('state', '=', 'sent')
    .where('recorded_at', '>', p.since),
);
const dropQueuedMails = prepared(
  (_qb, p: Params<{ prefix: string }>) =>
    sql`DELETE FROM outbox WHERE kind = 'letter_handed_in' AND state = 'queued' AND message_id LIKE ${p.prefix}`,
);

export type PacksRepository = ReturnType<typeof packsRepository>;

/** Hand-in packs (postal batches) on the store: on the database, or inside a caller's transaction. */
export function packsRepository(db: Executor) {
  return {
    /** Every pack due or recorded, by delegation; petitions' titles in `lang`. */
    list: (lang: Lang = 'en'): Promise<PackRow[]> => db.all(list, { lang }),
    find: (id: number, lang: Lang = 'en'): Promise<PackRow | undefined> => db.first(byId, { id, lang }),
    signersPage: (batchId: number, after: number, limit: number): Promise<PackSignerRow[]> =>
      db.all(signersPage, { batchId, after, limit }),
    lettersPage: (batchId: number, after: number, limit: number): Promise<PackLetterRow[]> =>
      db.all(lettersPage, { batchId, after, limit }),
    async figures(batchId: number, country: string) {
      const s = (await db.first(signerFigures, { batchId, country }))!;
      const letters = (await db.first(letterCount, { batchId }))!.n;
      return { ...s, letters };
    },
    async invalidated(petitionId: number, targetId: number): Promise<number> {
      return (await db.first(invalidated, { petitionId, targetId }))!.n;
    },
    /** Signatures in the earlier batches (either channel) of this petition × target, sent or on their way. */
    async earlier(petitionId: number, targetId: number, batchId: number): Promise<number> {
      return (await db.first(earlier, { petitionId, targetId, batchId }))!.n;
    },
    /** The checksum and count of a due pack's CSV as last rendered (a recorded pack keeps its own). */
    async setRendered(batchId: number, sha: string, count: number): Promise<void> {
      await db.run(setRendered, { batchId, sha, count });
    },
    /** Marks a due pack handed in; false when it was not due (already recorded, or no such pack). */
    async record(args: RecordArgs): Promise<boolean> {
      return (await db.run(record, args)) === 1;
    },
    /** Takes back a record made after `since`; false otherwise. */
    async undo(batchId: number, since: number): Promise<boolean> {
      return (await db.run(undo, { batchId, since })) === 1;
    },
    /** Mails about a pack still waiting to go (queued with a Message-ID starting with `prefix`) are deleted. */
    dropQueuedMails: (prefix: string): Promise<number> => db.run(dropQueuedMails, { prefix: `${prefix}%` }),
  };
}
