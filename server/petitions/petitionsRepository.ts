import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import type { Lang } from '../i18n/i18n';

export type PetitionState = 'open' | 'closed';

export interface Petition {
  id: number;
  slug: string;
  goal: number;
  state: PetitionState;
  /** When it closes itself, if it has a closing date (epoch ms). */
  closesAt: number | null;
  /** When it closed; null while open, and for a new petition never opened. */
  closedAt: number | null;
  title: string;
  body: string;
  demandSlug: string | null;
  demandTitle: string | null;
}

export interface DemandSummary {
  slug: string;
  title: string;
  summary: string;
  petitionSlug: string | null;
  petitionTitle: string | null;
  petitionState: PetitionState | null;
  closesAt: number | null;
  closedAt: number | null;
  count: number;
}

/** A closed petition in the archive. */
export interface ArchivedPetition {
  slug: string;
  title: string;
  closedAt: number;
  count: number;
  demandTitle: string | null;
}

export interface Campaign {
  title: string;
  intro: string;
  source: { author: string; role: string; title: string; publication: string; year: number | null };
}

export interface CountryCount {
  country: string;
  count: number;
}

export interface PublicSigner {
  firstName: string;
  country: string;
  validatedAt: number;
}

export interface Target {
  id: number;
  kind: 'nato_delegation' | 'parliamentary_assembly' | 'minister';
  country: string;
  name: string;
  email: string | null;
  website: string | null;
}

// Texts are stored per language; a missing translation falls back to English. The one chosen:
export const textLang = (table: string, key: string, id: string, lang: string) =>
  sql`(SELECT t.lang FROM ${sql.table(table)} t WHERE ${sql.ref(`t.${key}`)} = ${sql.ref(id)}
       ORDER BY t.lang = ${lang} DESC, t.lang = 'en' DESC LIMIT 1)`;

const campaign = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<{
      title: string;
      intro: string;
      role: string;
      author: string;
      sourceTitle: string;
      publication: string;
      year: number | null;
    }>`SELECT ct.title, ct.intro, ct.source_role AS role, c.source_author AS author, c.source_title AS "sourceTitle",
       c.source_publication AS publication, c.source_year AS year
     FROM campaigns c
     JOIN campaign_texts ct ON ct.campaign_id = c.id AND ct.lang = ${textLang('campaign_texts', 'campaign_id', 'c.id', p.lang)}
     ORDER BY c.id LIMIT 1`,
);
const demands = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<DemandSummary>`SELECT d.slug, dt.title, dt.summary, p.slug AS "petitionSlug", pt.title AS "petitionTitle",
       p.state AS "petitionState", p.closes_at AS "closesAt", p.closed_at AS "closedAt", coalesce(pc.validated, 0) AS count
     FROM demands d
     JOIN demand_texts dt ON dt.demand_id = d.id AND dt.lang = ${textLang('demand_texts', 'demand_id', 'd.id', p.lang)}
     LEFT JOIN petitions p ON p.demand_id = d.id
     LEFT JOIN petition_texts pt ON pt.petition_id = p.id
       AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', p.lang)}
     LEFT JOIN petition_counts pc ON pc.petition_id = p.id
     ORDER BY d.position`,
);
const petitionWhere = (where: ReturnType<typeof sql>, lang: string) =>
  sql<Petition>`SELECT p.id, p.slug, p.goal, p.state, p.closes_at AS "closesAt", p.closed_at AS "closedAt", pt.title, pt.body, d.slug AS "demandSlug", dt.title AS "demandTitle"
     FROM petitions p
     JOIN petition_texts pt ON pt.petition_id = p.id AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', lang)}
     LEFT JOIN demands d ON d.id = p.demand_id
     LEFT JOIN demand_texts dt ON dt.demand_id = d.id AND dt.lang = ${textLang('demand_texts', 'demand_id', 'd.id', lang)}
     WHERE ${where}`;
const bySlug = prepared((_qb, p: Params<{ slug: string; lang: Lang }>) =>
  petitionWhere(sql`p.slug = ${p.slug}`, p.lang),
);
const byId = prepared((_qb, p: Params<{ id: number; lang: Lang }>) => petitionWhere(sql`p.id = ${p.id}`, p.lang));
const count = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('petition_counts').select('validated').where('petition_id', '=', p.id),
);
const countryCounts = prepared((qb, p: Params<{ id: number }>) =>
  qb
    .selectFrom('petition_country_counts')
    .select(['country_code as country', 'validated as count'])
    .where('petition_id', '=', p.id)
    .where('validated', '>', 0)
    .orderBy('validated', 'desc')
    .orderBy('country_code'),
);
const recent = prepared((qb, p: Params<{ id: number; limit: number }>) =>
  qb
    .selectFrom('signatures')
    .select(['name', 'country_code as country', 'validated_at as validatedAt'])
    .where('petition_id', '=', p.id)
    .where('state', '=', 'validated')
    .where('show_publicly', '=', 1)
    .orderBy('validated_at', 'desc')
    .limit(p.limit),
);
const countries = prepared((qb) => qb.selectFrom('countries').select(['code', 'nato_member as nato']).orderBy('code'));
const petitionTargets = prepared((qb, p: Params<{ id: number }>) =>
  qb
    .selectFrom('petition_targets as pt')
    .innerJoin('targets as t', 't.id', 'pt.target_id')
    .select(['t.id', 't.kind', 't.country_code as country', 't.name', 't.email', 't.website'])
    .where('pt.petition_id', '=', p.id)
    .orderBy('t.name'),
);
const setState = prepared((qb, p: Params<{ slug: string; state: PetitionState; closedAt: number | null }>) =>
  qb
    .updateTable('petitions')
    .set({ state: p.state, closed_at: p.closedAt })
    .where('slug', '=', p.slug)
    .where('state', '<>', p.state),
);
// Only the closing time set on an open petition moves with it: closed_at is when it closed.
const setClosesAt = prepared((qb, p: Params<{ slug: string; closesAt: number | null }>) =>
  qb.updateTable('petitions').set({ closes_at: p.closesAt }).where('slug', '=', p.slug),
);
// Safe with several processes: each petition is closed by one UPDATE, whichever runs it first, and
// closed at its closing time (what readers showed from then on), not when this step came round.
const closeDue = prepared(
  (_qb, p: Params<{ now: number }>) =>
    sql<{ slug: string }>`UPDATE petitions SET state = 'closed', closed_at = closes_at
     WHERE state = 'open' AND closes_at IS NOT NULL AND closes_at <= ${p.now}
     RETURNING slug`,
);
// Closed petitions, as readers see them (an open one past its closing time is closed), newest
// first; a petition never opened (closed, no closed_at) is not in the archive.
const archive = prepared(
  (_qb, p: Params<{ lang: Lang; now: number }>) =>
    sql<ArchivedPetition>`SELECT p.slug, pt.title, coalesce(p.closed_at, p.closes_at) AS "closedAt",
       coalesce(pc.validated, 0) AS count, dt.title AS "demandTitle"
     FROM petitions p
     JOIN petition_texts pt ON pt.petition_id = p.id AND pt.lang = ${textLang('petition_texts', 'petition_id', 'p.id', p.lang)}
     LEFT JOIN petition_counts pc ON pc.petition_id = p.id
     LEFT JOIN demand_texts dt ON dt.demand_id = p.demand_id
       AND dt.lang = ${textLang('demand_texts', 'demand_id', 'p.demand_id', p.lang)}
     WHERE (p.state = 'closed' AND p.closed_at IS NOT NULL)
        OR (p.state = 'open' AND p.closes_at IS NOT NULL AND p.closes_at <= ${p.now})
     ORDER BY coalesce(p.closed_at, p.closes_at) DESC, p.id DESC`,
);
const slugs = prepared((qb) => qb.selectFrom('petitions').select(['id', 'slug']));
const slugById = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('petitions').select('slug').where('id', '=', p.id),
);

export type PetitionsRepository = ReturnType<typeof petitionsRepository>;

export function petitionsRepository(db: Executor) {
  return {
    async slugById(id: number): Promise<string | undefined> {
      return (await db.first(slugById, { id }))?.slug;
    },
    async slugsById(): Promise<Map<number, string>> {
      return new Map((await db.all(slugs)).map((r) => [r.id, r.slug]));
    },
    /** Opens or closes a petition; false when there is no such petition. */
    async setState(slug: string, state: PetitionState, now: number): Promise<boolean> {
      return (await db.run(setState, { slug, state, closedAt: state === 'closed' ? now : null })) === 1;
    },
    /** Sets or clears a petition's closing time; false when there is no such petition. */
    async setClosesAt(slug: string, closesAt: number | null): Promise<boolean> {
      return (await db.run(setClosesAt, { slug, closesAt })) === 1;
    },
    /** Closes the open petitions whose closing time has come; their slugs. */
    async closeDue(now: number): Promise<string[]> {
      return (await db.all(closeDue, { now })).map((r) => r.slug);
    },
    async archive(lang: Lang, now: number): Promise<ArchivedPetition[]> {
      return (await db.all(archive, { lang, now })).map((r) => ({
        ...r,
        closedAt: Number(r.closedAt),
        count: Number(r.count),
      }));
    },
    async campaign(lang: Lang): Promise<Campaign | undefined> {
      const row = await db.first(campaign, { lang });
      if (!row) return undefined;
      return {
        title: row.title,
        intro: row.intro,
        source: {
          author: row.author,
          role: row.role,
          title: row.sourceTitle,
          publication: row.publication,
          year: row.year,
        },
      };
    },
    demands: (lang: Lang): Promise<DemandSummary[]> => db.all(demands, { lang }),
    findBySlug: (slug: string, lang: Lang): Promise<Petition | undefined> => db.first(bySlug, { slug, lang }),
    findById: (id: number, lang: Lang): Promise<Petition | undefined> => db.first(byId, { id, lang }),
    async validatedCount(petitionId: number): Promise<number> {
      return (await db.first(count, { id: petitionId }))?.validated ?? 0;
    },
    countryCounts: (petitionId: number): Promise<CountryCount[]> => db.all(countryCounts, { id: petitionId }),
    /** First names only: the full name never leaves the database for the public. */
    async recentPublicSigners(petitionId: number, limit: number): Promise<PublicSigner[]> {
      return (await db.all(recent, { id: petitionId, limit })).map((r) => ({
        firstName: r.name.trim().split(/\s+/)[0] ?? '',
        country: r.country,
        validatedAt: r.validatedAt!,
      }));
    },
    async countries(): Promise<Array<{ code: string; nato: boolean }>> {
      return (await db.all(countries)).map((c) => ({ code: c.code, nato: c.nato === 1 }));
    },
    petitionTargets: (petitionId: number): Promise<Target[]> => db.all(petitionTargets, { id: petitionId }),
  };
}
