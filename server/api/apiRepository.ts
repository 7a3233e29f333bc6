import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import type { Lang } from '../i18n/i18n';
import { dayMs } from '../time/dates';

export interface ApiPetitionRow {
  id: number;
  slug: string;
  title: string;
  state: 'open' | 'closed';
  closesAt: number | null;
  closedAt: number | null;
  goal: number;
  count: number;
  demandSlug: string | null;
}

const petitions = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<ApiPetitionRow>`SELECT p.id, p.slug, p.state, p.closes_at AS "closesAt", p.closed_at AS "closedAt", p.goal, coalesce(c.validated, 0) AS count,
       d.slug AS "demandSlug",
       (SELECT title FROM petition_texts t WHERE t.petition_id = p.id
        ORDER BY t.lang = ${p.lang} DESC, t.lang = 'en' DESC LIMIT 1) AS title
     FROM petitions p
     LEFT JOIN demands d ON d.id = p.demand_id
     LEFT JOIN petition_counts c ON c.petition_id = p.id
     ORDER BY coalesce(d.position, 1000000000), p.id`,
);

// Validated signatures per UTC day (days since 1970-01-01). Counts rows: the API keeps the answer
// for COUNT_REFRESH_SECONDS, so a viral moment runs this once per interval, not once per request.
const perDay = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<{ day: number; count: number }>`SELECT validated_at / ${sql.lit(dayMs)} AS day, count(*) AS count
     FROM signatures WHERE petition_id = ${p.petitionId} AND state = 'validated'
     GROUP BY validated_at / ${sql.lit(dayMs)} ORDER BY 1`,
);

/** What the public read API says that the pages do not already read: aggregates only, no person. */
export function apiRepository(db: Executor) {
  return {
    petitions: (lang: Lang): Promise<ApiPetitionRow[]> => db.all(petitions, { lang }),
    async validatedPerDay(petitionId: number): Promise<Array<{ date: string; count: number }>> {
      return (await db.all(perDay, { petitionId })).map((r) => ({
        date: new Date(Math.floor(Number(r.day)) * dayMs).toISOString().slice(0, 10),
        count: Number(r.count),
      }));
    },
  };
}
