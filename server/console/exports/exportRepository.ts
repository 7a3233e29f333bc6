import { sql, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { DB } from '../../db/schema';
import type { Executor } from '../../db/store';
import type { SignatureState } from '../../signatures/signaturesRepository';

export interface ExportFilters {
  petitionId?: number;
  country?: string;
  /** One state, or every state. */
  state: SignatureState | 'all';
  /** Signed at or after (ms). */
  from?: number;
  /** Signed before (ms). */
  to?: number;
  optedIn: boolean;
}

/** The columns of a signatures export, in order (README "Organiser console"). */
export const exportColumns = [
  'petition',
  'name',
  'email',
  'country',
  'postcode',
  'state',
  'signed_at',
  'validated_at',
  'updates_opt_in',
  // Where the signer came from (?source=, utm_*: server/sources/sourceCode.ts); last, so that the
  // columns before keep their places for whoever reads them by position.
  'source',
] as const;

/**
 * A signature as the export reads it: times as numbers and the opt-in as 0/1, formatted while
 * writing (cheaper than asking the database for strings); the petition by id, mapped to its slug.
 */
export interface ExportRow {
  id: number;
  petitionId: number;
  name: string;
  email: string;
  country: string;
  postcode: string | null;
  state: SignatureState;
  createdAt: number;
  validatedAt: number | null;
  updatesOptIn: number;
  source: string | null;
}

/** Rows a page reads: a megabyte or two, so memory stays flat; a million rows take two hundred queries. */
export const exportPageSize = 5000;

function filtered<O>(query: SelectQueryBuilder<DB, 'signatures', O>, filters: ExportFilters) {
  return query.where((eb: ExpressionBuilder<DB, 'signatures'>) => {
    const all = [];
    if (filters.petitionId !== undefined) {
      // With one state, the index on (petition_id, state) reads in id order (SQLite's indexes end with
      // the rowid). Without, that index would need every row of the petition sorted for each page:
      // `+petition_id` (valid on both databases) keeps the planner on the id range instead.
      all.push(
        filters.state === 'all'
          ? sql<SqlBool>`+petition_id = ${filters.petitionId}`
          : eb('petition_id', '=', filters.petitionId),
      );
    }
    if (filters.state !== 'all') all.push(eb('state', '=', filters.state));
    if (filters.country) all.push(eb('country_code', '=', filters.country));
    if (filters.from !== undefined) all.push(eb('created_at', '>=', filters.from));
    if (filters.to !== undefined) all.push(eb('created_at', '<', filters.to));
    if (filters.optedIn) all.push(eb('updates_opt_in', '=', 1));
    return eb.and(all);
  });
}

const iso = (column: string) => `strftime('%Y-%m-%dT%H:%M:%SZ', ${column} / 1000, 'unixepoch')`;

/**
 * The export as one SELECT for SQLite, with its bound parameters: the benchmark's baseline runs it
 * in the sqlite3 shell. `formatInSql` asks SQLite to format times and the opt-in as the CSV has
 * them. The app itself reads through `exportRepository(db).pages`, on either database.
 */
export function exportQuery(
  filters: ExportFilters,
  options: { formatInSql?: boolean } = {},
): { sql: string; params: Record<string, string | number> } {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (filters.petitionId !== undefined) {
    where.push('petition_id = @petitionId');
    params.petitionId = filters.petitionId;
  }
  if (filters.state !== 'all') {
    where.push('state = @state');
    params.state = filters.state;
  }
  if (filters.country) {
    where.push('country_code = @country');
    params.country = filters.country;
  }
  if (filters.from !== undefined) {
    where.push('created_at >= @from');
    params.from = filters.from;
  }
  if (filters.to !== undefined) {
    where.push('created_at < @to');
    params.to = filters.to;
  }
  if (filters.optedIn) where.push('updates_opt_in = 1');
  const columns = options.formatInSql
    ? `petition_id, name, email, country_code, coalesce(postcode, ''), state, ${iso('created_at')},
      CASE WHEN validated_at IS NULL THEN '' ELSE ${iso('validated_at')} END,
      CASE updates_opt_in WHEN 1 THEN 'yes' ELSE 'no' END, coalesce(source, '')`
    : 'petition_id, name, email, country_code, postcode, state, created_at, validated_at, updates_opt_in, source';
  const sql = `SELECT ${columns} FROM signatures${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
  return { sql, params };
}

export type ExportRepository = ReturnType<typeof exportRepository>;

/**
 * The signatures export, read a page at a time in id order (keyset paging: `id > last`), each page
 * its own short query: no read stays open while a slow browser downloads, so nothing is held on
 * SQLite's connection or the WAL, and on PostgreSQL no pooled connection is kept for the download.
 * An export holds the signatures that existed when it began (ids up to the highest one then), each
 * as it is when its page is read.
 */
export function exportRepository(db: Executor) {
  async function highestId(): Promise<number> {
    const row = await db.first(db.qb.selectFrom('signatures').select((eb) => eb.fn.max('id').as('id')));
    return Number(row?.id ?? 0);
  }

  function page(filters: ExportFilters, afterId: number, upTo: number, limit: number) {
    return filtered(
      db.qb
        .selectFrom('signatures')
        .select([
          'id',
          'petition_id as petitionId',
          'name',
          'email',
          'country_code as country',
          'postcode',
          'state',
          'created_at as createdAt',
          'validated_at as validatedAt',
          'updates_opt_in as updatesOptIn',
          'source',
        ])
        .where('id', '>', afterId)
        .where('id', '<=', upTo),
      filters,
    )
      .orderBy('id')
      .limit(limit);
  }

  return {
    /** The highest signature id now: where an export that begins now ends. */
    highestId,

    /** How many rows an export up to `upTo` (the highest id, by default) holds. */
    async count(filters: ExportFilters, upTo?: number): Promise<number> {
      const query = filtered(
        db.qb.selectFrom('signatures').select((eb) => eb.fn.countAll<number>().as('n')),
        filters,
      );
      const row = await db.first(upTo === undefined ? query : query.where('id', '<=', upTo));
      return Number(row?.n ?? 0);
    },

    /** The export's rows, page by page; stopping early (a `break`, a `return`) reads nothing more. */
    async *pages(filters: ExportFilters, options: { upTo?: number; pageSize?: number } = {}) {
      const upTo = options.upTo ?? (await highestId());
      const limit = options.pageSize ?? exportPageSize;
      for (let after = 0; ;) {
        const rows = (await db.all(page(filters, after, upTo, limit))) as ExportRow[];
        if (rows.length > 0) yield rows;
        if (rows.length < limit) return;
        after = rows[rows.length - 1]!.id;
      }
    },
  };
}
