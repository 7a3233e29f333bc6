import crypto from 'node:crypto';

export interface CrashRandom {
  seed: number;
  /** The next number in [0, 1), as Math.random gives, but replayable from the seed. */
  next(): number;
}

/**
 * The random moments of a crash test, replayable: seeded from CRASH_SEED when it is set, else at
 * random, and the seed printed to stderr (and put in the test's name by the caller) so that a failure
 * can be run again with the same kill times: CRASH_SEED=<seed> npx jest <file>.
 */
export function crashRandom(label: string): CrashRandom {
  const fromEnv = process.env.CRASH_SEED;
  const seed = fromEnv ? Number(fromEnv) >>> 0 : crypto.randomInt(2 ** 31);
  process.stderr.write(`${label}: CRASH_SEED=${seed}\n`);
  let state = seed;
  return {
    seed,
    // mulberry32: small, fast and good enough to pick moments.
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
