import type { Database } from '../../db/database';
import type { Lang } from '../../i18n/i18n';
import type { SignatureState } from '../../signatures/signaturesRepository';
import type { DayCount } from './chart';

export interface PetitionSummary {
  id: number;
  slug: string;
  title: string;
  state: 'open' | 'closed';
  goal: number;
}

const dayMs = 24 * 60 * 60 * 1000;

export type DashboardRepository = ReturnType<typeof dashboardRepository>;

/**
 * The console's aggregates. Unlike public page views, these may count rows: an organiser page is
 * rare, and each query runs on an index (petition, state) or (petition, validated_at).
 */
export function dashboardRepository(db: Database) {
  const petitions = db.prepare(
    `SELECT p.id, p.slug, p.state, p.goal,
       (SELECT title FROM petition_texts t WHERE t.petition_id = p.id ORDER BY t.lang = @lang DESC, t.lang = 'en' DESC LIMIT 1) AS title
     FROM petitions p LEFT JOIN demands d ON d.id = p.demand_id ORDER BY coalesce(d.position, 1e9), p.id`,
  );
  const byState = db.prepare('SELECT state, count(*) AS n FROM signatures WHERE petition_id = ? GROUP BY state');
  const perDay = db.prepare(
    `SELECT validated_at / ${dayMs} AS day, count(*) AS count FROM signatures
     WHERE petition_id = ? AND state = 'validated' AND validated_at >= ? GROUP BY day`,
  );
  const byCountry = db.prepare(
    `SELECT country_code AS country, validated AS count FROM petition_country_counts
     WHERE petition_id = ? AND validated > 0 ORDER BY validated DESC, country_code`,
  );

  return {
    petitions(lang: Lang): PetitionSummary[] {
      return petitions.all({ lang }) as PetitionSummary[];
    },
    stateCounts(petitionId: number): Record<SignatureState, number> {
      const counts = { pending: 0, validated: 0, fraudulent: 0, invalidated: 0 };
      for (const row of byState.all(petitionId) as Array<{ state: SignatureState; n: number }>)
        counts[row.state] = row.n;
      return counts;
    },
    validatedPerDay(petitionId: number, since: number): DayCount[] {
      return perDay.all(petitionId, since) as DayCount[];
    },
    /** From the counters the writer keeps. */
    countryCounts(petitionId: number): Array<{ country: string; count: number }> {
      return byCountry.all(petitionId) as Array<{ country: string; count: number }>;
    },
  };
}
