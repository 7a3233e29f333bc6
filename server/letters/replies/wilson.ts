/** The 97.5th percentile of the standard normal distribution: a two-sided 95% interval. */
export const z95 = 1.959964;

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval for `successes` out of `trials` (Wilson, 1927): unlike the textbook
 * p ± z·√(p(1−p)/n), it stays inside [0, 1] and does not collapse to a point at 0 or n, which
 * matters for the small counts a delegation's replies come in. Undefined for no trials.
 */
export function wilsonInterval(successes: number, trials: number, z = z95): Interval | undefined {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || trials <= 0) return undefined;
  if (successes < 0 || successes > trials) throw new RangeError(`${successes} successes out of ${trials} trials`);
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // Rounding must not push a bound past 0 or 1 (at 0 or n successes they are exactly 0 or 1).
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === trials ? 1 : Math.min(1, centre + half),
  };
}
