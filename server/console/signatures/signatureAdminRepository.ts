import { sql, type ExpressionBuilder, type SqlBool, type Expression } from 'kysely';
import type { DB } from '../../db/schema';
import { prepared, type Executor, type Params } from '../../db/store';
import { countersRepository } from '../../petitions/countersRepository';
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

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The criteria as one condition on `signatures`; only pending and validated signatures can be invalidated. */
function whereOf(c: InvalidationCriteria) {
  return (eb: ExpressionBuilder<DB, 'signatures'>): Expression<SqlBool> => {
    const all: Array<Expression<SqlBool>> = [eb('state', 'in', ['pending', 'validated'])];
    if (c.petitionId !== undefined) all.push(eb('petition_id', '=', c.petitionId));
    if (c.emailCanonical) all.push(eb('email_canonical', '=', c.emailCanonical));
    // The part after the @ (a domain has no @, % or _ of its own: see the service's check).
    if (c.domain) all.push(sql<SqlBool>`email_canonical LIKE ${`%@${likeEscape(c.domain)}`} ESCAPE '\\'`);
    if (c.ipHashes?.length) all.push(eb('ip_hash', 'in', c.ipHashes));
    if (c.postcode) all.push(sql<SqlBool>`lower(trim(postcode)) = lower(${c.postcode})`);
    if (c.from !== undefined) all.push(eb('created_at', '>=', c.from));
    if (c.to !== undefined) all.push(eb('created_at', '<', c.to));
    return eb.and(all);
  };
}

const found = sql`SELECT s.id, p.slug AS "petitionSlug", s.name, s.email, s.country_code AS country, s.postcode,
    s.state, s.created_at AS "createdAt", s.validated_at AS "validatedAt"
  FROM signatures s JOIN petitions p ON p.id = s.petition_id`;
// Case-insensitive on both databases: PostgreSQL's LIKE is case-sensitive, SQLite's is not (for ASCII).
const emailMatches = (p: Params<{ canonical: string; lower: string }>) =>
  sql`(s.email_canonical = ${p.canonical} OR lower(s.email) = ${p.lower})`;
const textMatches = (p: Params<{ like: string; lower: string }>) =>
  sql`(lower(s.name) LIKE lower(${p.like}) ESCAPE '\\' OR lower(s.postcode) = ${p.lower})`;

const byEmail = prepared(
  (_qb, p: Params<{ canonical: string; lower: string; limit: number }>) =>
    sql<FoundSignature>`${found} WHERE ${emailMatches(p)} ORDER BY s.id DESC LIMIT ${p.limit}`,
);
const byText = prepared(
  (_qb, p: Params<{ like: string; lower: string; limit: number }>) =>
    sql<FoundSignature>`${found} WHERE ${textMatches(p)} ORDER BY s.id DESC LIMIT ${p.limit}`,
);
const countByEmail = prepared(
  (_qb, p: Params<{ canonical: string; lower: string }>) =>
    sql<{ n: number }>`SELECT count(*) AS n FROM signatures s WHERE ${emailMatches(p)}`,
);
const countByText = prepared(
  (_qb, p: Params<{ like: string; lower: string }>) =>
    sql<{ n: number }>`SELECT count(*) AS n FROM signatures s WHERE ${textMatches(p)}`,
);
const closedBefore = prepared((qb, p: Params<{ cutoff: number }>) =>
  qb
    .selectFrom('petitions')
    .select('id')
    .where('state', '=', 'closed')
    .where('closed_at', 'is not', null)
    .where('closed_at', '<=', p.cutoff),
);
// Blanks what identifies a person; keeps the state, country and times, so counts stay true.
const anonymise = prepared(
  (_qb, p: Params<{ petitionId: number; now: number }>) =>
    sql<{ id: number }>`UPDATE signatures SET name = '', email = '', email_canonical = 'anonymised:' || id,
       postcode = NULL, ip_hash = NULL, show_publicly = 0, updates_opt_in = 0, anonymised_at = ${p.now}
     WHERE petition_id = ${p.petitionId} AND anonymised_at IS NULL RETURNING id`,
);

/** A search's terms: by email (canonical or as typed) when it has an @, else part of a name or a postcode. */
function terms(query: string) {
  const q = query.trim();
  if (q.includes('@'))
    return { byEmail: true as const, params: { canonical: canonicalEmail(q), lower: q.toLowerCase() } };
  return { byEmail: false as const, params: { like: `%${likeEscape(q)}%`, lower: q.toLowerCase() } };
}

export type SignatureAdminRepository = ReturnType<typeof signatureAdminRepository>;

/** The console's reads and writes of signatures. `invalidate` and `anonymiseClosedBefore`: on a transaction. */
export function signatureAdminRepository(db: Executor) {
  return {
    /** Up to `limit` signatures, newest first: by email (canonical or as typed) when it has an @. */
    search(query: string, limit: number): Promise<FoundSignature[]> {
      const t = terms(query);
      return t.byEmail ? db.all(byEmail, { ...t.params, limit }) : db.all(byText, { ...t.params, limit });
    },

    /** How many signatures the same search finds in all. */
    async countFound(query: string): Promise<number> {
      const t = terms(query);
      const row = t.byEmail ? await db.first(countByEmail, t.params) : await db.first(countByText, t.params);
      return Number(row?.n ?? 0);
    },

    /** How many signatures the criteria match, by state, and on how many petitions. */
    async countMatching(
      criteria: InvalidationCriteria,
    ): Promise<{ pending: number; validated: number; petitions: number }> {
      const row = await db.first(
        db.qb
          .selectFrom('signatures')
          .select([
            sql<number>`coalesce(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0)`.as('pending'),
            sql<number>`coalesce(sum(CASE WHEN state = 'validated' THEN 1 ELSE 0 END), 0)`.as('validated'),
            sql<number>`count(DISTINCT petition_id)`.as('petitions'),
          ])
          .where(whereOf(criteria)),
      );
      return { pending: Number(row!.pending), validated: Number(row!.validated), petitions: Number(row!.petitions) };
    },

    /**
     * pending/validated → invalidated, then the counters of every petition touched recounted from
     * the rows. Call on a transaction: the counts the public pages read are never off, even briefly.
     */
    async invalidate(
      criteria: InvalidationCriteria,
      now: number,
    ): Promise<{ invalidated: number; petitionIds: number[] }> {
      const rows = await db.all(
        db.qb
          .updateTable('signatures')
          .set({ state: 'invalidated', invalidated_at: now })
          .where(whereOf(criteria))
          .returning('petition_id'),
      );
      const petitionIds = [...new Set(rows.map((r) => r.petition_id))];
      const counters = countersRepository(db);
      for (const p of petitionIds) await counters.recount(p);
      return { invalidated: rows.length, petitionIds };
    },

    /** Anonymises every signature of petitions closed at or before `cutoff`; returns their ids. */
    async anonymiseClosedBefore(cutoff: number, now: number): Promise<number[]> {
      const ids: number[] = [];
      for (const { id: petitionId } of await db.all(closedBefore, { cutoff })) {
        for (const row of await db.all(anonymise, { petitionId, now })) ids.push(row.id);
      }
      return ids;
    },
  };
}
