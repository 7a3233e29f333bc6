import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../../db/store';
import type { Lang } from '../../i18n/i18n';
import { petitionsRepository } from '../../petitions/petitionsRepository';
import type { SignatureState } from '../../signatures/signaturesRepository';
import type { DayCount } from './chart';
import { dayMs } from '../../time/dates';

export interface PetitionSummary {
  id: number;
  slug: string;
  title: string;
  state: 'open' | 'closed';
  goal: number;
}

const petitions = prepared(
  (_qb, p: Params<{ lang: Lang }>) =>
    sql<PetitionSummary>`SELECT p.id, p.slug, p.state, p.goal,
       (SELECT title FROM petition_texts t WHERE t.petition_id = p.id
        ORDER BY t.lang = ${p.lang} DESC, t.lang = 'en' DESC LIMIT 1) AS title
     FROM petitions p LEFT JOIN demands d ON d.id = p.demand_id ORDER BY coalesce(d.position, 1000000000), p.id`,
);
const byState = prepared((qb, p: Params<{ petitionId: number }>) =>
  qb
    .selectFrom('signatures')
    .select('state')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('petition_id', '=', p.petitionId)
    .groupBy('state'),
);
const perDay = prepared(
  (_qb, p: Params<{ petitionId: number; since: number }>) =>
    sql<DayCount>`SELECT validated_at / ${sql.lit(dayMs)} AS day, count(*) AS count FROM signatures
     WHERE petition_id = ${p.petitionId} AND state = 'validated' AND validated_at >= ${p.since}
     GROUP BY validated_at / ${sql.lit(dayMs)}`,
);

export type DashboardRepository = ReturnType<typeof dashboardRepository>;

/**
 * The console's aggregates. Unlike public page views, these may count rows: an organiser page is
 * rare, and each query runs on an index (petition, state) or (petition, validated_at).
 */
export function dashboardRepository(db: Executor) {
  return {
    petitions: (lang: Lang): Promise<PetitionSummary[]> => db.all(petitions, { lang }),
    async stateCounts(petitionId: number): Promise<Record<SignatureState, number>> {
      const counts = { pending: 0, validated: 0, fraudulent: 0, invalidated: 0 };
      for (const row of await db.all(byState, { petitionId })) counts[row.state] = row.n;
      return counts;
    },
    validatedPerDay: (petitionId: number, since: number): Promise<DayCount[]> => db.all(perDay, { petitionId, since }),
    /** From the counters the writer keeps. */
    /** The public page's per-country counters: one query for both. */
    countryCounts: (petitionId: number) => petitionsRepository(db).countryCounts(petitionId),
  };
}
