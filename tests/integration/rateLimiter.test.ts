import { databaseRateLimiter } from '../../server/security/rateLimiter';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';

describe(`rate windows in the database (${engine})`, () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
  });
  afterAll(() => t.close());

  it('add up the hits of every process, per key, and let a window move on', async () => {
    const limits = [
      { max: 3, seconds: 60 },
      { max: 4, seconds: 300 },
    ];
    // Two processes: two limiters, one table.
    const one = databaseRateLimiter('sign', limits);
    const two = databaseRateLimiter('sign', limits);
    const start = Date.UTC(2026, 10, 30, 12);
    const over: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      over.push(await t.store.transaction((tx) => (i % 2 ? two : one).hit(tx, 'ip-a:1', start + i * 1000)));
    }
    expect(over).toEqual([false, false, false, true]);
    // Another key is counted apart, and so is the same key of another limiter.
    expect(await one.hit(t.store, 'ip-b:1', start + 5000)).toBe(false);
    expect(await databaseRateLimiter('letters', limits).hit(t.store, 'ip-a:1', start + 5000)).toBe(false);
    // A minute on, the 60-second limit has room again, but the five-minute one counts all five.
    expect(await two.hit(t.store, 'ip-a:1', start + 64_000)).toBe(true);
    // Five minutes after the first hits, only the last two remain in the longer window.
    expect(await one.hit(t.store, 'ip-a:1', start + 302_000)).toBe(false);
  });
});
