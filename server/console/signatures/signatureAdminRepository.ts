import type { Database } from '../../db/database';
import { canonicalEmail } from '../../signatures/rules';
import type { SignatureState } from '../../signatures/signaturesRepository';

export interface FoundSignature {
  id: number;
  petitionSlug: string;
  name: string;
  email: string;
  country: string;
  postcode: string | null;
  state: SignatureState;
  createdAt: number;
  validatedAt: number | null;
}

/** What a bulk invalidation matches: every given criterion at once (AND). */
export interface InvalidationCriteria {
  petitionId?: number;
  emailCanonical?: string;
  domain?: string;
  /** The HMACs an IP address may have been stored under. */
  ipHashes?: string[];
  postcode?: string;
  from?: number;
  to?: number;
}

function whereOf(c: InvalidationCriteria): { sql: string; params: Record<string, unknown> } {
  const where = ["state IN ('pending', 'validated')"];
  const params: Record<string, unknown> = {};
  if (c.petitionId !== undefined) {
    where.push('petition_id = @petitionId');
    params.petitionId = c.petitionId;
  }
  if (c.emailCanonical) {
    where.push('email_canonical = @emailCanonical');
    params.emailCanonical = c.emailCanonical;
  }
  if (c.domain) {
    where.push("substr(email_canonical, instr(email_canonical, '@') + 1) = @domain");
    params.domain = c.domain;
  }
  if (c.ipHashes?.length) {
    where.push(`ip_hash IN (${c.ipHashes.map((_, i) => `@ip${i}`).join(', ')})`);
    c.ipHashes.forEach((h, i) => (params[`ip${i}`] = h));
  }
  if (c.postcode) {
    where.push('lower(trim(postcode)) = lower(@postcode)');
    params.postcode = c.postcode;
  }
  if (c.from !== undefined) {
    where.push('created_at >= @from');
    params.from = c.from;
  }
  if (c.to !== undefined) {
    where.push('created_at < @to');
    params.to = c.to;
  }
  return { sql: where.join(' AND '), params };
}

export type SignatureAdminRepository = ReturnType<typeof signatureAdminRepository>;

export function signatureAdminRepository(db: Database) {
  const found = `SELECT s.id, p.slug AS petitionSlug, s.name, s.email, s.country_code AS country, s.postcode, s.state,
      s.created_at AS createdAt, s.validated_at AS validatedAt
    FROM signatures s JOIN petitions p ON p.id = s.petition_id`;
  const emailMatches = 's.email_canonical = @canonical OR lower(s.email) = @lower';
  const textMatches = "s.name LIKE @like ESCAPE '\\' OR lower(s.postcode) = @lower";
  const byEmail = db.prepare(`${found} WHERE ${emailMatches} ORDER BY s.id DESC LIMIT @limit`);
  const byText = db.prepare(`${found} WHERE ${textMatches} ORDER BY s.id DESC LIMIT @limit`);
  const countByEmail = db.prepare(`SELECT count(*) FROM signatures s WHERE ${emailMatches}`).pluck();
  const countByText = db.prepare(`SELECT count(*) FROM signatures s WHERE ${textMatches}`).pluck();

  /** A search's terms: by email (canonical or as typed) when it has an @, else part of a name or a postcode. */
  function terms(query: string) {
    const q = query.trim();
    if (q.includes('@')) return { byEmail: true, params: { canonical: canonicalEmail(q), lower: q.toLowerCase() } };
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return { byEmail: false, params: { like, lower: q.toLowerCase() } };
  }
  const recountTotal = db.prepare(
    `INSERT INTO petition_counts (petition_id, validated)
     VALUES (@p, (SELECT count(*) FROM signatures WHERE petition_id = @p AND state = 'validated'))
     ON CONFLICT (petition_id) DO UPDATE SET validated = excluded.validated`,
  );
  const clearCountries = db.prepare('DELETE FROM petition_country_counts WHERE petition_id = ?');
  const recountCountries = db.prepare(
    `INSERT INTO petition_country_counts (petition_id, country_code, validated)
     SELECT petition_id, country_code, count(*) FROM signatures WHERE petition_id = ? AND state = 'validated'
     GROUP BY country_code`,
  );
  const closedBefore = db.prepare(
    "SELECT id FROM petitions WHERE state = 'closed' AND closed_at IS NOT NULL AND closed_at <= ?",
  );
  // Blanks what identifies a person; keeps the state, country and times, so counts stay true.
  const anonymise = db.prepare(
    `UPDATE signatures SET name = '', email = '', email_canonical = 'anonymised:' || id, postcode = NULL,
       ip_hash = NULL, show_publicly = 0, updates_opt_in = 0, anonymised_at = @now
     WHERE petition_id = @petitionId AND anonymised_at IS NULL RETURNING id`,
  );

  /** Counters from the rows; call inside the transaction that changed them. */
  function recount(petitionId: number): void {
    recountTotal.run({ p: petitionId });
    clearCountries.run(petitionId);
    recountCountries.run(petitionId);
  }

  return {
    /** Up to `limit` signatures, newest first: by email (canonical or as typed) when it has an @. */
    search(query: string, limit: number): FoundSignature[] {
      const { byEmail: email, params } = terms(query);
      return (email ? byEmail : byText).all({ ...params, limit }) as FoundSignature[];
    },

    /** How many signatures the same search finds in all. */
    countFound(query: string): number {
      const { byEmail: email, params } = terms(query);
      return (email ? countByEmail : countByText).get(params) as number;
    },

    /** How many signatures the criteria match, by state, and on how many petitions. */
    countMatching(criteria: InvalidationCriteria): { pending: number; validated: number; petitions: number } {
      const { sql, params } = whereOf(criteria);
      return db
        .prepare(
          `SELECT coalesce(sum(state = 'pending'), 0) AS pending, coalesce(sum(state = 'validated'), 0) AS validated,
             count(DISTINCT petition_id) AS petitions FROM signatures WHERE ${sql}`,
        )
        .get(params) as { pending: number; validated: number; petitions: number };
    },

    /**
     * pending/validated → invalidated, then the counters of every petition touched recounted from
     * the rows, in one transaction: the counts the public pages read are never off, even briefly.
     */
    invalidate(criteria: InvalidationCriteria, now: number): { invalidated: number; petitionIds: number[] } {
      const { sql, params } = whereOf(criteria);
      const update = db.prepare(
        `UPDATE signatures SET state = 'invalidated', invalidated_at = @now WHERE ${sql} RETURNING petition_id`,
      );
      return db.transaction(() => {
        const rows = update.pluck().all({ ...params, now }) as number[];
        const petitionIds = [...new Set(rows)];
        for (const p of petitionIds) recount(p);
        return { invalidated: rows.length, petitionIds };
      })();
    },

    recount,

    /** Anonymises every signature of petitions closed at or before `cutoff`; returns their ids. */
    anonymiseClosedBefore(cutoff: number, now: number): number[] {
      return db.transaction(() =>
        (closedBefore.pluck().all(cutoff) as number[]).flatMap(
          (petitionId) => anonymise.pluck().all({ petitionId, now }) as number[],
        ),
      )();
    },
  };
}
