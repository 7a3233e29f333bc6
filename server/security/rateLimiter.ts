import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import { RateWindow } from '../signatures/rules';

export interface RateLimit {
  max: number;
  seconds: number;
}

/**
 * Counts hits per key (a hashed IP × petition or demand) and says when one goes over a limit. `hit`
 * is called inside the transaction that writes what the hit was for, so the count and the row it
 * judged commit together.
 */
export interface RateLimiter {
  /** Records a hit and says whether it goes over any limit. */
  hit(tx: Executor, key: string, now: number): Promise<boolean>;
}

/** One process's own window, in memory: exact, and right while this process is the only writer. */
export function memoryRateLimiter(limits: RateLimit[]): RateLimiter {
  const window = new RateWindow(limits);
  return { hit: async (_tx, key, now) => window.hit(key, now) };
}

const bucketMs = 1000;
/** One hit in this many also prunes the buckets every window has left behind. */
const pruneEvery = 500;

const add = prepared((qb, p: Params<{ key: string; bucket: number }>) =>
  qb
    .insertInto('rate_hits')
    .values({ key: p.key, bucket: p.bucket, hits: 1 })
    .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet({ hits: sql`rate_hits.hits + 1` })),
);
const prune = prepared((qb, p: Params<{ before: number }>) =>
  qb.deleteFrom('rate_hits').where('bucket', '<', p.before),
);

/**
 * The window kept in the database (table rate_hits, one row per key and second), shared by every
 * process that writes to it: several web workers, or several machines on PostgreSQL. A limit over N
 * seconds counts the hits of the last N seconds, to the second. `name` keeps each limiter's keys
 * apart (signing and letters both key by IP × an id).
 */
export function databaseRateLimiter(name: string, limits: RateLimit[]): RateLimiter {
  const longest = Math.max(1, ...limits.map((l) => l.seconds));
  // One row of sums, one column per limit (n0, n1…): sum(hits) over the buckets inside each limit's
  // window, which starts after bucket f0, f1….
  const sums = prepared((_qb, p: Params<Record<string, string | number>>) => {
    const columns = limits.map(
      (_limit, i) =>
        sql`coalesce(sum(CASE WHEN bucket > ${p[`f${i}`]} THEN hits ELSE 0 END), 0) AS ${sql.ref(`n${i}`)}`,
    );
    return sql<Record<string, number>>`SELECT ${sql.join(columns)} FROM rate_hits
      WHERE key = ${p.key} AND bucket > ${p.oldest}`;
  });
  let hits = 0;
  return {
    async hit(tx, key, now) {
      if (limits.length === 0) return false;
      const bucket = Math.floor(now / bucketMs);
      key = `${name}:${key}`;
      await tx.run(add, { key, bucket });
      if (++hits % pruneEvery === 0) await tx.run(prune, { before: bucket - longest });
      const args: Record<string, string | number> = { key, oldest: bucket - longest };
      limits.forEach((l, i) => (args[`f${i}`] = bucket - l.seconds));
      const counts = (await tx.first(sums, args))!;
      return limits.some((l, i) => Number(counts[`n${i}`]) > l.max);
    },
  };
}
