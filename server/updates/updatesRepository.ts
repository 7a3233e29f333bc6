import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

export interface UpdateDraft {
  petitionId: number;
  subjectEn: string;
  bodyEn: string;
  subjectFr: string;
  bodyFr: string;
  /** ISO codes; empty: every country. */
  countries: string[];
}

export interface CampaignUpdate extends UpdateDraft {
  id: number;
  state: 'writing' | 'written';
  cursor: number;
  recipients: number;
  startsAt: number;
  createdBy: number | null;
  createdAt: number;
  writtenAt: number | null;
}

export interface UpdateRecipient {
  id: number;
  name: string;
  email: string;
  locale: string;
  createdAt: number;
}

export interface UpdateProgress {
  queued: number;
  sent: number;
  failed: number;
}

const columns = sql`id, petition_id AS "petitionId", subject_en AS "subjectEn", body_en AS "bodyEn",
  subject_fr AS "subjectFr", body_fr AS "bodyFr", countries, state, cursor, recipients, starts_at AS "startsAt",
  created_by AS "createdBy", created_at AS "createdAt", written_at AS "writtenAt"`;

type Row = Omit<CampaignUpdate, 'countries'> & { countries: string };
const fromRow = (r: Row): CampaignUpdate => ({ ...r, countries: r.countries ? r.countries.split(',') : [] });

const byId = prepared(
  (_qb, p: Params<{ id: number }>) => sql<Row>`SELECT ${columns} FROM campaign_updates WHERE id = ${p.id}`,
);
const byKey = prepared(
  (_qb, p: Params<{ key: string }>) =>
    sql<Row>`SELECT ${columns} FROM campaign_updates WHERE idempotency_key = ${p.key}`,
);
const ofPetition = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<Row>`SELECT ${columns} FROM campaign_updates WHERE petition_id = ${p.petitionId} ORDER BY id DESC`,
);
const writing = prepared((qb) =>
  qb.selectFrom('campaign_updates').select('id').where('state', '=', 'writing').orderBy('id'),
);
const insert = prepared(
  (
    qb,
    p: Params<{
      petitionId: number;
      subjectEn: string;
      bodyEn: string;
      subjectFr: string;
      bodyFr: string;
      countries: string;
      key: string;
      startsAt: number;
      createdBy: number | null;
      now: number;
    }>,
  ) =>
    qb
      .insertInto('campaign_updates')
      .values({
        petition_id: p.petitionId,
        subject_en: p.subjectEn,
        body_en: p.bodyEn,
        subject_fr: p.subjectFr,
        body_fr: p.bodyFr,
        countries: p.countries,
        idempotency_key: p.key,
        starts_at: p.startsAt,
        created_by: p.createdBy,
        created_at: p.now,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id'),
);
const advance = prepared((qb, p: Params<{ id: number; from: number; cursor: number; added: number }>) =>
  qb
    .updateTable('campaign_updates')
    .set((eb) => ({ cursor: p.cursor, recipients: eb('recipients', '+', p.added) }))
    .where('id', '=', p.id)
    .where('cursor', '=', p.from),
);
const finish = prepared((qb, p: Params<{ id: number; from: number; now: number }>) =>
  qb
    .updateTable('campaign_updates')
    .set({ state: 'written', written_at: p.now })
    .where('id', '=', p.id)
    .where('cursor', '=', p.from)
    .where('state', '=', 'writing'),
);
const addRecipient = prepared((qb, p: Params<{ updateId: number; signatureId: number; outboxId: number }>) =>
  qb
    .insertInto('campaign_update_recipients')
    .values({ update_id: p.updateId, signature_id: p.signatureId, outbox_id: p.outboxId })
    .onConflict((oc) => oc.doNothing()),
);
const progress = prepared(
  (_qb, p: Params<{ id: number }>) =>
    sql<{ state: string; n: number }>`SELECT o.state, count(*) AS n FROM campaign_update_recipients r
     JOIN outbox o ON o.id = r.outbox_id WHERE r.update_id = ${p.id} GROUP BY o.state`,
);

/** Who may get a petition's updates: confirmed, opted in, not unsubscribed, not anonymised. */
function audience(petitionId: number, countries: string[]) {
  const some = countries.length > 0 ? sql`AND country_code IN (${sql.join(countries)})` : sql``;
  return sql`FROM signatures WHERE petition_id = ${petitionId} AND state = 'validated' AND updates_opt_in = 1
    AND unsubscribed_at IS NULL AND anonymised_at IS NULL ${some}`;
}

export type UpdatesRepository = ReturnType<typeof updatesRepository>;

export function updatesRepository(db: Executor) {
  return {
    async byId(id: number): Promise<CampaignUpdate | undefined> {
      const row = await db.first(byId, { id });
      return row && fromRow(row);
    },
    async ofPetition(petitionId: number): Promise<CampaignUpdate[]> {
      return (await db.all(ofPetition, { petitionId })).map(fromRow);
    },
    async writing(): Promise<number[]> {
      return (await db.all(writing)).map((r) => Number(r.id));
    },
    /** Makes the update, or answers the one already made under this key (`created: false`). */
    async create(
      draft: UpdateDraft,
      key: string,
      createdBy: number | null,
      startsAt: number,
      now: number,
    ): Promise<{ id: number; created: boolean }> {
      const inserted = await db.first(insert, {
        ...draft,
        countries: draft.countries.join(','),
        key,
        startsAt,
        createdBy,
        now,
      });
      if (inserted) return { id: Number(inserted.id), created: true };
      return { id: (await db.first(byKey, { key }))!.id, created: false };
    },
    async audienceCount(petitionId: number, countries: string[]): Promise<number> {
      const row = await db.first(sql<{ n: number }>`SELECT count(*) AS n ${audience(petitionId, countries)}`);
      return Number(row?.n ?? 0);
    },
    /** The next `limit` of the audience after signature `after`, in signature order. */
    nextRecipients(petitionId: number, countries: string[], after: number, limit: number): Promise<UpdateRecipient[]> {
      return db.all(
        sql<UpdateRecipient>`SELECT id, name, email, locale, created_at AS "createdAt"
         ${audience(petitionId, countries)} AND id > ${after} ORDER BY id LIMIT ${limit}`,
      );
    },
    /** Records one recipient; false when they already had this update (a chunk written twice). */
    async addRecipient(updateId: number, signatureId: number, outboxId: number): Promise<boolean> {
      return (await db.run(addRecipient, { updateId, signatureId, outboxId })) === 1;
    },
    /** Moves the cursor from `from`; false if another writer moved it first (then roll back). */
    async advance(id: number, from: number, cursor: number, added: number): Promise<boolean> {
      return (await db.run(advance, { id, from, cursor, added })) === 1;
    },
    async finish(id: number, from: number, now: number): Promise<boolean> {
      return (await db.run(finish, { id, from, now })) === 1;
    },
    async progress(id: number): Promise<UpdateProgress> {
      const out = { queued: 0, sent: 0, failed: 0 };
      for (const r of await db.all(progress, { id })) {
        const n = Number(r.n);
        if (r.state === 'sent') out.sent += n;
        else if (r.state === 'failed' || r.state === 'dead') out.failed += n;
        else out.queued += n;
      }
      return out;
    },
  };
}
