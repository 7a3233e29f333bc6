import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import type { Lang } from '../i18n/i18n';

export const responseChannels = ['email', 'letter', 'meeting', 'phone', 'public_statement', 'other'] as const;
export type ResponseChannel = (typeof responseChannels)[number];

/** A delegation's answer as stored, with the names of what it answers (in the reader's language). */
export interface ResponseRow {
  id: number;
  targetId: number;
  delegation: string;
  country: string;
  /** Whether the target is its country's delegation (the one /delegations/<code> shows). */
  isDefault: number;
  petitionId: number | null;
  demandId: number | null;
  petitionSlug: string | null;
  petitionTitle: string | null;
  demandSlug: string | null;
  demandTitle: string | null;
  /** The petition whose signers hear of it: its own, or the first petition of its demand. */
  signersPetitionSlug: string | null;
  /** YYYY-MM-DD */
  receivedOn: string;
  channel: ResponseChannel;
  body: string;
  link: string | null;
  isPublic: number;
}

export interface ResponseFields {
  targetId: number;
  petitionId: number | null;
  demandId: number | null;
  receivedOn: string;
  channel: ResponseChannel;
  body: string;
  link: string | null;
  isPublic: 0 | 1;
}

/** A petition or a demand a response may be about, for the console's choice. */
export interface Subject {
  id: number;
  slug: string;
  title: string;
}

// Texts are stored per language; a missing translation falls back to English (as for petitions).
const textLang = (table: string, key: string, id: string, lang: unknown) =>
  sql`(SELECT x.lang FROM ${sql.table(table)} x WHERE ${sql.ref(`x.${key}`)} = ${sql.ref(id)}
       ORDER BY x.lang = ${lang} DESC, x.lang = 'en' DESC LIMIT 1)`;

const select = (lang: unknown, where: ReturnType<typeof sql>) =>
  sql<ResponseRow>`SELECT r.id, r.target_id AS "targetId", t.name AS delegation, t.country_code AS country,
       t.is_default AS "isDefault", r.petition_id AS "petitionId", r.demand_id AS "demandId",
       p.slug AS "petitionSlug", pt.title AS "petitionTitle", d.slug AS "demandSlug", dt.title AS "demandTitle",
       coalesce(p.slug, (SELECT dp.slug FROM petitions dp WHERE dp.demand_id = r.demand_id ORDER BY dp.id LIMIT 1))
         AS "signersPetitionSlug",
       r.received_on AS "receivedOn", r.channel, r.body, r.link, r.is_public AS "isPublic"
     FROM delegation_responses r
     JOIN targets t ON t.id = r.target_id
     LEFT JOIN petitions p ON p.id = r.petition_id
     LEFT JOIN petition_texts pt ON pt.petition_id = p.id
       AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', lang)}
     LEFT JOIN demands d ON d.id = r.demand_id
     LEFT JOIN demand_texts dt ON dt.demand_id = d.id AND dt.lang = ${textLang('demand_texts', 'demand_id', 'd.id', lang)}
     WHERE ${where}
     ORDER BY r.received_on DESC, r.id DESC`;

const all = prepared((_qb, p: Params<{ lang: Lang }>) => select(p.lang, sql`1 = 1`));
const byId = prepared((_qb, p: Params<{ id: number; lang: Lang }>) => select(p.lang, sql`r.id = ${p.id}`));
// A petition's page shows the answers about it and about its demand.
const publicForPetition = prepared((_qb, p: Params<{ petitionId: number; lang: Lang }>) =>
  select(
    p.lang,
    sql`r.is_public = 1 AND (r.petition_id = ${p.petitionId}
      OR r.demand_id = (SELECT pd.demand_id FROM petitions pd WHERE pd.id = ${p.petitionId}))`,
  ),
);
// A demand's page: the answers about it and about its petitions.
const publicForDemand = prepared((_qb, p: Params<{ demandId: number; lang: Lang }>) =>
  select(
    p.lang,
    sql`r.is_public = 1 AND (r.demand_id = ${p.demandId}
      OR r.petition_id IN (SELECT dp.id FROM petitions dp WHERE dp.demand_id = ${p.demandId}))`,
  ),
);
const publicForTarget = prepared((_qb, p: Params<{ targetId: number; lang: Lang }>) =>
  select(p.lang, sql`r.is_public = 1 AND r.target_id = ${p.targetId}`),
);

const petitions = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<Subject>`SELECT p.id, p.slug, pt.title FROM petitions p
     JOIN petition_texts pt ON pt.petition_id = p.id AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', p.lang)}
     ORDER BY p.id`,
);
const demands = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<Subject>`SELECT d.id, d.slug, dt.title FROM demands d
     JOIN demand_texts dt ON dt.demand_id = d.id AND dt.lang = ${textLang('demand_texts', 'demand_id', 'd.id', p.lang)}
     ORDER BY d.position, d.id`,
);

type Values = ResponseFields & { now: number };
const insert = prepared((qb, p: Params<Values & { createdBy: number | null }>) =>
  qb
    .insertInto('delegation_responses')
    .values({
      target_id: p.targetId,
      petition_id: p.petitionId,
      demand_id: p.demandId,
      received_on: p.receivedOn,
      channel: p.channel,
      body: p.body,
      link: p.link,
      is_public: p.isPublic,
      created_by: p.createdBy,
      created_at: p.now,
      updated_at: p.now,
    })
    .returning('id'),
);
const update = prepared((qb, p: Params<Values & { id: number }>) =>
  qb
    .updateTable('delegation_responses')
    .set({
      target_id: p.targetId,
      petition_id: p.petitionId,
      demand_id: p.demandId,
      received_on: p.receivedOn,
      channel: p.channel,
      body: p.body,
      link: p.link,
      is_public: p.isPublic,
      updated_at: p.now,
    })
    .where('id', '=', p.id),
);
const remove = prepared((qb, p: Params<{ id: number }>) =>
  qb.deleteFrom('delegation_responses').where('id', '=', p.id),
);

export type ResponsesRepository = ReturnType<typeof responsesRepository>;

/** The delegations' answers: recorded by organisers, shown on the public pages when public. */
export function responsesRepository(db: Executor) {
  return {
    /** Every answer, public or not, newest first (the console). */
    all: (lang: Lang): Promise<ResponseRow[]> => db.all(all, { lang }),
    byId: (id: number, lang: Lang): Promise<ResponseRow | undefined> => db.first(byId, { id, lang }),
    publicForPetition: (petitionId: number, lang: Lang): Promise<ResponseRow[]> =>
      db.all(publicForPetition, { petitionId, lang }),
    publicForDemand: (demandId: number, lang: Lang): Promise<ResponseRow[]> =>
      db.all(publicForDemand, { demandId, lang }),
    publicForTarget: (targetId: number, lang: Lang): Promise<ResponseRow[]> =>
      db.all(publicForTarget, { targetId, lang }),
    petitions: (lang: Lang): Promise<Subject[]> => db.all(petitions, { lang }),
    demands: (lang: Lang): Promise<Subject[]> => db.all(demands, { lang }),
    async create(fields: ResponseFields, createdBy: number | null, now: number): Promise<number> {
      return Number((await db.first(insert, { ...fields, createdBy, now }))!.id);
    },
    async update(id: number, fields: ResponseFields, now: number): Promise<boolean> {
      return (await db.run(update, { ...fields, id, now })) === 1;
    },
    async remove(id: number): Promise<boolean> {
      return (await db.run(remove, { id })) === 1;
    },
  };
}
