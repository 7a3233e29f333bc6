import { sql } from 'kysely';
import { prepared, type Executor, type Params, type Prepared } from '../db/store';

const add = prepared((qb, p: Params<{ key: string; bucket: number }>) =>
  qb
    .insertInto('rate_hits')
    .values({ key: p.key, bucket: p.bucket, hits: 1 })
    .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet({ hits: sql`rate_hits.hits + 1` })),
);
const prune = prepared((qb, p: Params<{ before: number }>) =>
  qb.deleteFrom('rate_hits').where('bucket', '<', p.before),
);

type Sums = Prepared<Record<string, string | number>, Record<string, number>>;
const sumsByWindows = new Map<number, Sums>();

/**
 * One row of sums, one column per window (n0, n1…): sum(hits) over the buckets after f0, f1…, among
 * the key's buckets after `oldest`. Compiled once per number of windows.
 */
function sums(windows: number): Sums {
  let query = sumsByWindows.get(windows);
  if (!query) {
    query = prepared((_qb, p: Params<Record<string, string | number>>) => {
      const columns = Array.from(
        { length: windows },
        (_, i) => sql`coalesce(sum(CASE WHEN bucket > ${p[`f${i}`]} THEN hits ELSE 0 END), 0) AS ${sql.ref(`n${i}`)}`,
      );
      return sql<Record<string, number>>`SELECT ${sql.join(columns)} FROM rate_hits
        WHERE key = ${p.key} AND bucket > ${p.oldest}`;
    });
    sumsByWindows.set(windows, query);
  }
  return query;
}

/** Rate windows kept in the database: table rate_hits, one row per key and time bucket. */
export function rateHitsRepository(db: Executor) {
  return {
    /** One more hit for `key` in `bucket`. */
    async add(key: string, bucket: number): Promise<void> {
      await db.run(add, { key, bucket });
    },
    /** Forgets the buckets before `before`. */
    async prune(before: number): Promise<void> {
      await db.run(prune, { before });
    },
    /** The key's hits in each window: after bucket `from[i]` (and after `oldest`, the earliest of them). */
    async hitsAfter(key: string, oldest: number, from: readonly number[]): Promise<number[]> {
      const args: Record<string, string | number> = { key, oldest };
      from.forEach((f, i) => (args[`f${i}`] = f));
      const row = (await db.first(sums(from.length), args))!;
      return from.map((_f, i) => Number(row[`n${i}`]));
    },
  };
}
