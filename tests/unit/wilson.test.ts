import { wilsonInterval, z95 } from '../../server/letters/replies/wilson';

/** The bounds of the Wilson interval are the roots of (p̂ − p)² = z²·p(1 − p)/n, solved afresh here. */
function roots(k: number, n: number): [number, number] {
  const ph = k / n;
  const a = 1 + (z95 * z95) / n;
  const b = -(2 * ph + (z95 * z95) / n);
  const d = Math.sqrt(b * b - 4 * a * ph * ph);
  return [(-b - d) / (2 * a), (-b + d) / (2 * a)];
}

describe('wilsonInterval', () => {
  it.each([
    // Reference values (the roots of the defining quadratic, computed apart).
    [5, 10, 0.237, 0.763],
    [0, 10, 0, 0.278],
    [10, 10, 0.722, 1],
    [81, 263, 0.2553, 0.3662],
    [7, 12, 0.3195, 0.8067],
    [1, 1, 0.2065, 1],
  ])('%i out of %i lies in [%f, %f]', (k, n, low, high) => {
    const interval = wilsonInterval(k, n)!;
    const places = String(low).length > 5 || String(high).length > 5 ? 4 : 3;
    expect(interval.low).toBeCloseTo(low, places);
    expect(interval.high).toBeCloseTo(high, places);
  });

  it('has bounds that solve the defining equation', () => {
    for (const [k, n] of [
      [3, 17],
      [81, 263],
      [499, 1000],
      [1, 40],
    ] as const) {
      const [low, high] = roots(k, n);
      const interval = wilsonInterval(k, n)!;
      expect(interval.low).toBeCloseTo(low, 10);
      expect(interval.high).toBeCloseTo(high, 10);
    }
  });

  it('is symmetric: k out of n mirrors n − k out of n', () => {
    const a = wilsonInterval(3, 11)!;
    const b = wilsonInterval(8, 11)!;
    expect(a.low).toBeCloseTo(1 - b.high, 12);
    expect(a.high).toBeCloseTo(1 - b.low, 12);
  });

  it('narrows as the number of answers grows, around the same share', () => {
    const small = wilsonInterval(5, 10)!;
    const large = wilsonInterval(500, 1000)!;
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    expect(large.low).toBeGreaterThan(small.low);
  });

  it('has no interval without answers, and refuses impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeUndefined();
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
  });
});
