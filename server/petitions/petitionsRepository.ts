import type { Database } from '../db/database';
import type { Lang } from '../i18n/i18n';

export type PetitionState = 'open' | 'closed';

export interface Petition {
  id: number;
  slug: string;
  goal: number;
  state: PetitionState;
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
  count: number;
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

// Texts are stored per language; a missing translation falls back to English.
const textIn = (table: string, key: string, id: string) => `(SELECT t.rowid FROM ${table} t
  WHERE t.${key} = ${id} ORDER BY t.lang = @lang DESC, t.lang = 'en' DESC LIMIT 1)`;

export type PetitionsRepository = ReturnType<typeof petitionsRepository>;

export function petitionsRepository(db: Database) {
  const campaign = db.prepare(
    `SELECT ct.title, ct.intro, ct.source_role AS role, c.source_author AS author, c.source_title AS sourceTitle,
            c.source_publication AS publication, c.source_year AS year
     FROM campaigns c JOIN campaign_texts ct ON ct.rowid = ${textIn('campaign_texts', 'campaign_id', 'c.id')}
     ORDER BY c.id LIMIT 1`,
  );
  const demands = db.prepare(
    `SELECT d.slug, dt.title, dt.summary, p.slug AS petitionSlug, pt.title AS petitionTitle,
            coalesce(pc.validated, 0) AS count
     FROM demands d
     JOIN demand_texts dt ON dt.rowid = ${textIn('demand_texts', 'demand_id', 'd.id')}
     LEFT JOIN petitions p ON p.demand_id = d.id
     LEFT JOIN petition_texts pt ON pt.rowid = ${textIn('petition_texts', 'petition_id', 'p.id')}
     LEFT JOIN petition_counts pc ON pc.petition_id = p.id
     ORDER BY d.position`,
  );
  const petitionSelect = `SELECT p.id, p.slug, p.goal, p.state, pt.title, pt.body, d.slug AS demandSlug,
            dt.title AS demandTitle
     FROM petitions p
     JOIN petition_texts pt ON pt.rowid = ${textIn('petition_texts', 'petition_id', 'p.id')}
     LEFT JOIN demands d ON d.id = p.demand_id
     LEFT JOIN demand_texts dt ON dt.rowid = ${textIn('demand_texts', 'demand_id', 'd.id')}`;
  const bySlug = db.prepare(`${petitionSelect} WHERE p.slug = @slug`);
  const byId = db.prepare(`${petitionSelect} WHERE p.id = @id`);
  const count = db.prepare('SELECT validated FROM petition_counts WHERE petition_id = ?').pluck();
  const countryCounts = db.prepare(
    `SELECT country_code AS country, validated AS count FROM petition_country_counts
     WHERE petition_id = ? AND validated > 0 ORDER BY validated DESC, country_code`,
  );
  const recent = db.prepare(
    `SELECT name, country_code AS country, validated_at AS validatedAt FROM signatures
     WHERE petition_id = ? AND state = 'validated' AND show_publicly = 1
     ORDER BY validated_at DESC LIMIT ?`,
  );
  const countries = db.prepare('SELECT code, nato_member AS nato FROM countries ORDER BY code');
  const petitionTargets = db.prepare(
    `SELECT t.id, t.kind, t.country_code AS country, t.name, t.email, t.website
     FROM petition_targets pt JOIN targets t ON t.id = pt.target_id WHERE pt.petition_id = ? ORDER BY t.name`,
  );

  const setState = db.prepare(
    `UPDATE petitions SET state = @state, closed_at = CASE WHEN @state = 'closed' THEN @now END WHERE slug = @slug`,
  );

  const slugById = db.prepare('SELECT slug FROM petitions WHERE id = ?').pluck();

  return {
    slugById(id: number): string | undefined {
      return slugById.get(id) as string | undefined;
    },
    /** Opens or closes a petition; false when there is no such petition. */
    setState(slug: string, state: PetitionState, now: number): boolean {
      return setState.run({ slug, state, now }).changes === 1;
    },
    campaign(lang: Lang): Campaign | undefined {
      const row = campaign.get({ lang }) as
        | {
            title: string;
            intro: string;
            role: string;
            author: string;
            sourceTitle: string;
            publication: string;
            year: number | null;
          }
        | undefined;
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
    demands(lang: Lang): DemandSummary[] {
      return demands.all({ lang }) as DemandSummary[];
    },
    findBySlug(slug: string, lang: Lang): Petition | undefined {
      return bySlug.get({ slug, lang }) as Petition | undefined;
    },
    findById(id: number, lang: Lang): Petition | undefined {
      return byId.get({ id, lang }) as Petition | undefined;
    },
    validatedCount(petitionId: number): number {
      return (count.get(petitionId) as number | undefined) ?? 0;
    },
    countryCounts(petitionId: number): CountryCount[] {
      return countryCounts.all(petitionId) as CountryCount[];
    },
    /** First names only: the full name never leaves the database for the public. */
    recentPublicSigners(petitionId: number, limit: number): PublicSigner[] {
      return (recent.all(petitionId, limit) as Array<{ name: string; country: string; validatedAt: number }>).map(
        (r) => ({ firstName: r.name.trim().split(/\s+/)[0] ?? '', country: r.country, validatedAt: r.validatedAt }),
      );
    },
    countries(): Array<{ code: string; nato: boolean }> {
      return (countries.all() as Array<{ code: string; nato: number }>).map((c) => ({
        code: c.code,
        nato: c.nato === 1,
      }));
    },
    petitionTargets(petitionId: number): Target[] {
      return petitionTargets.all(petitionId) as Target[];
    },
  };
}
