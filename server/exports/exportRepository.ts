import BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../db/database';
import type { SignatureState } from '../signatures/signaturesRepository';

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
] as const;

const iso = (column: string) => `strftime('%Y-%m-%dT%H:%M:%SZ', ${column} / 1000, 'unixepoch')`;

/**
 * The export's SELECT, with its bound parameters. The app reads times as numbers and the opt-in as
 * 0/1 and formats them while writing (cheaper than asking SQLite for strings); `formatInSql` asks
 * SQLite to format them instead, as the same text, for a client that cannot (the benchmark's sqlite3
 * shell). The first column is the petition's id; the writer maps it to its slug.
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
      CASE updates_opt_in WHEN 1 THEN 'yes' ELSE 'no' END`
    : 'petition_id, name, email, country_code, postcode, state, created_at, validated_at, updates_opt_in';
  const sql = `SELECT ${columns} FROM signatures${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return { sql, params };
}

export interface ExportCursor {
  rows: IterableIterator<unknown[]>;
  close(): void;
}

/**
 * Opens the export's rows as a lazy iterator. better-sqlite3 keeps a connection busy for as long as
 * an iterator is open, and an HTTP export waits on the network in between rows, so each export reads
 * through a connection of its own (query-only) and the app's connection stays free for signing.
 * One read transaction also gives the whole file one consistent snapshot.
 */
export function openReader(file: string): Database {
  const reader = new BetterSqlite3(file, { fileMustExist: true });
  reader.pragma('query_only = ON');
  reader.pragma('busy_timeout = 5000');
  return reader;
}

export type ExportRepository = ReturnType<typeof exportRepository>;

export function exportRepository(connect: () => Database, options: { closeAfter?: boolean } = {}) {
  return {
    iterate(filters: ExportFilters): ExportCursor {
      const db = connect();
      const { sql, params } = exportQuery(filters);
      const rows = db.prepare(sql).raw(true).iterate(params) as IterableIterator<unknown[]>;
      return {
        rows,
        close() {
          rows.return?.();
          if (options.closeAfter !== false) db.close();
        },
      };
    },
    count(filters: ExportFilters): number {
      const db = connect();
      try {
        const { sql, params } = exportQuery(filters);
        return db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get(params) as number;
      } finally {
        if (options.closeAfter !== false) db.close();
      }
    },
  };
}
