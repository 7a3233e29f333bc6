import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'protect-civil-society';
const hour = 3600_000;

/** A relay that defers every mail, as a greylisting or overloaded one does. */
const greylisted = () => ({ code: 451, message: 'Greylisted, try again later' });

describe('retrying a digest the relay defers (4xx)', () => {
  let t: TestApp;
  let now: number;
  afterEach(() => t.close());

  async function digestFor(env: Record<string, string>) {
    now = Date.UTC(2026, 5, 1, 8, 0, 0);
    t = await createTestApp({ clock: () => now, env: { DIGEST_SIZE: '3', ...env } });
    t.smtp!.respond(greylisted);
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      now,
    );
    expect((await t.services.delivery.plan()).batches).toBe(1);
  }

  const outboxRow = () =>
    t.services.store.first(
      t.services.store.qb
        .selectFrom('outbox')
        .select(['state', 'attempts', 'next_attempt_at as nextAttemptAt', 'last_error as lastError'])
        .orderBy('id'),
    ) as Promise<{ state: string; attempts: number; nextAttemptAt: number; lastError: string | null }>;

  it('waits the base back-off after the first attempt, twice as long after each next, up to 6 hours', async () => {
    await digestFor({ OUTBOX_BACKOFF_MS: String(hour), OUTBOX_MAX_ATTEMPTS: '8' });
    // base × 2^(attempt − 1): 1 h, 2 h, 4 h, then 8 h capped at 6 h, and 6 h again.
    const waits = [1, 2, 4, 6, 6].map((h) => h * hour);
    for (const [i, wait] of waits.entries()) {
      expect(await t.services.sender.drain()).toEqual({ sent: 0, retried: 1, failed: 0 });
      expect(t.smtp!.attempts).toBe(i + 1);
      const row = await outboxRow();
      expect(row).toMatchObject({ state: 'queued', attempts: i + 1, lastError: expect.stringContaining('451') });
      expect(row.nextAttemptAt - now).toBe(wait);

      // Not a moment before its time…
      now = row.nextAttemptAt - 1;
      expect(await t.services.sender.drain()).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(t.smtp!.attempts).toBe(i + 1);
      // …and at its time, the next attempt.
      now = row.nextAttemptAt;
    }
    expect((await t.services.delivery.status())[0]).toMatchObject({ state: 'queued', attempts: 5 });
  });

  it('dead-letters the digest after OUTBOX_MAX_ATTEMPTS, and never tries it again', async () => {
    await digestFor({ OUTBOX_BACKOFF_MS: String(hour), OUTBOX_MAX_ATTEMPTS: '3' });
    const summaries = [];
    for (let pass = 0; pass < 5; pass++) {
      summaries.push(await t.services.sender.drain());
      now += 24 * hour; // longer than any back-off
    }
    expect(summaries).toEqual([
      { sent: 0, retried: 1, failed: 0 },
      { sent: 0, retried: 1, failed: 0 },
      { sent: 0, retried: 0, failed: 1 },
      { sent: 0, retried: 0, failed: 0 },
      { sent: 0, retried: 0, failed: 0 },
    ]);
    expect(t.smtp!.attempts).toBe(3);
    expect(t.smtp!.mails).toHaveLength(0);
    expect(await outboxRow()).toMatchObject({ state: 'dead', attempts: 3, lastError: expect.stringContaining('451') });
    const [batch] = await t.services.delivery.status();
    expect(batch).toMatchObject({ state: 'dead', attempts: 3 });
    expect(batch!.lastError).toContain('Greylisted');
  });
});
