import type { Executor } from '../db/store';
import { RateWindow } from '../signatures/rules';
import { rateHitsRepository } from './rateHitsRepository';

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

/**
 * The window kept in the database (table rate_hits, one row per key and second), shared by every
 * process that writes to it: several web workers, or several machines on PostgreSQL. A limit over N
 * seconds counts the hits of the last N seconds, to the second. `name` keeps each limiter's keys
 * apart (signing and letters both key by IP × an id).
 */
export function databaseRateLimiter(name: string, limits: RateLimit[]): RateLimiter {
  const longest = Math.max(1, ...limits.map((l) => l.seconds));
  let hits = 0;
  return {
    async hit(tx, key, now) {
      if (limits.length === 0) return false;
      const bucket = Math.floor(now / bucketMs);
      key = `${name}:${key}`;
      const rateHits = rateHitsRepository(tx);
      await rateHits.add(key, bucket);
      if (++hits % pruneEvery === 0) await rateHits.prune(bucket - longest);
      const counts = await rateHits.hitsAfter(
        key,
        bucket - longest,
        limits.map((l) => bucket - l.seconds),
      );
      return limits.some((l, i) => (counts[i] ?? 0) > l.max);
    },
  };
}
