import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../../db/store';

export interface SourceCount {
  /** The source code (server/sources/sourceCode.ts), or null for signatures that came with none. */
  source: string | null;
  count: number;
}

// Validated signatures only, as the counters count them (index signatures_by_source, migration 0014);
// most first, those with no source last among equals.
const bySource = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<{ source: string | null; count: number }>`SELECT source, count(*) AS count FROM signatures
     WHERE petition_id = ${p.petitionId} AND state = 'validated'
     GROUP BY source ORDER BY count(*) DESC, source IS NULL, source`,
);

/** Which channels brought a petition's signers in: for the console's "signatures by source". */
export function sourcesRepository(db: Executor) {
  return {
    async signaturesBySource(petitionId: number): Promise<SourceCount[]> {
      const rows = await db.all(bySource, { petitionId });
      return rows.map((r) => ({ source: r.source, count: Number(r.count) }));
    },
  };
}
