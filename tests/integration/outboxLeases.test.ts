import { queueMails } from '../helpers/factories';
import { sql } from 'kysely';
import { outboxRepository } from '../../server/mail/outboxRepository';
import type { Services } from '../../server/services';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { anotherRunner, createTestApp, type TestApp } from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';

const slug = 'protect-civil-society';
const leaseMs = 60_000;

describe(`the outbox sender and its leases, on ${engine}`, () => {
  let t: TestApp;
  let other: Services | undefined;
  const relays: SmtpSink[] = [];
  afterEach(async () => {
    await other?.close();
    other = undefined;
    await t.close();
    for (const relay of relays.splice(0)) await relay.close();
  });

  it('sends each mail once while a slow relay keeps it longer than the lease', async () => {
    // 120 mails through 5 connections to a relay that takes 20 ms a mail: the last are answered long
    // after a lease of 100 ms has run out, while the sender claims its next batches.
    t = await createTestApp({ smtp: { delayMs: 20 }, env: { OUTBOX_LEASE_MS: '100' } });
    await queueMails(t.services, 120);
    const summary = await t.services.sender.drain();
    const received = t.smtp!.mails.map((m) => m.messageId);
    expect(received).toHaveLength(120);
    expect(new Set(received).size).toBe(120);
    expect(summary).toEqual({ sent: 120, retried: 0, failed: 0 });
    const rows = await t.services.store.all(
      sql<{
        state: string;
        attempts: number;
        n: number;
      }>`SELECT state, attempts, count(*) AS n FROM outbox GROUP BY 1, 2`,
    );
    expect(rows).toEqual([{ state: 'sent', attempts: 1, n: 120 }]);
  });

  describe('when a runner outlives its lease and another takes the mail over', () => {
    let now: number;
    const clock = () => now;
    let second: SmtpSink;

    beforeEach(async () => {
      now = Date.UTC(2026, 5, 1, 8, 0, 0);
      t = await createTestApp({ clock, env: { OUTBOX_LEASE_MS: String(leaseMs), DIGEST_SIZE: '3' } });
      second = await startSmtpSink();
      relays.push(second);
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
        now,
      );
      expect((await t.services.delivery.plan()).batches).toBe(1);
    });

    const outboxRow = () =>
      t.services.store.first(
        t.services.store.qb.selectFrom('outbox').select(['state', 'attempts', 'sent_at as sentAt']),
      );
    const batchState = async () => (await t.services.delivery.status())[0]!.state;

    /** The app's own sender claims the digest and hands it to its relay, which does not answer yet. */
    async function firstRunnerStuck() {
      const release = t.smtp!.hold();
      const pass = t.services.sender.drain();
      await t.smtp!.waitForReceived(1);
      now += leaseMs + 1;
      return { release, pass };
    }

    it('leaves a digest sent when the first runner hears of a failure late', async () => {
      t.smtp!.respond(() => ({ code: 451, message: 'Try again later' }));
      const first = await firstRunnerStuck();
      other = await anotherRunner(t, { smtpUrl: second.url, clock });
      expect(await other.sender.drain()).toEqual({ sent: 1, retried: 0, failed: 0 });
      expect(second.mails).toHaveLength(1);
      expect(await outboxRow()).toMatchObject({ state: 'sent', attempts: 2 });

      first.release();
      // The late 451 is for a claim that no longer holds the digest: nothing is recorded.
      expect(await first.pass).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(await outboxRow()).toMatchObject({ state: 'sent', attempts: 2 });
      expect(await batchState()).toBe('sent');

      // Nothing is due again, however long anyone waits.
      now += 7 * 24 * 3600_000;
      await t.services.sender.drain();
      await other.sender.drain();
      expect(t.smtp!.attempts).toBe(1);
      expect(second.mails).toHaveLength(1);
    });

    it("changes nothing when a stale claim's send is accepted: the digest waits for the claim that holds it", async () => {
      const first = await firstRunnerStuck();
      const releaseSecond = second.hold();
      other = await anotherRunner(t, { smtpUrl: second.url, clock });
      const secondPass = other.sender.drain();
      await second.waitForReceived(1);

      first.release();
      expect(await first.pass).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(t.smtp!.mails).toHaveLength(1); // the relay has it: at least once, with the same Message-ID
      expect(await outboxRow()).toEqual({ state: 'sending', attempts: 2, sentAt: null });
      expect(await batchState()).toBe('queued');

      releaseSecond();
      expect(await secondPass).toEqual({ sent: 1, retried: 0, failed: 0 });
      expect(await outboxRow()).toMatchObject({ state: 'sent', attempts: 2 });
      expect(await batchState()).toBe('sent');
      expect(second.mails[0]!.messageId).toBe(t.smtp!.mails[0]!.messageId);
    });
  });

  it('gives two claims made in the same millisecond different leases, and records only for the one that holds a row', async () => {
    t = await createTestApp();
    await queueMails(t.services, 2);
    const repo = outboxRepository(t.services.store);
    const at = Date.now();
    const a = await repo.claimDue(at, leaseMs, 1);
    const b = await repo.claimDue(at, leaseMs, 1);
    expect(a.rows).toHaveLength(1);
    expect(b.rows).toHaveLength(1);
    expect(a.lease).not.toBe(b.lease);
    const [rowA] = a.rows;
    expect(await repo.markSent(rowA!.id, b.lease, '250 OK', at)).toBe(false);
    expect(await repo.scheduleRetry(rowA!.id, b.lease, '451', at)).toBe(false);
    expect(await repo.markFailed(rowA!.id, b.lease, 'failed', '550')).toBe(false);
    expect(await repo.find(rowA!.id)).toMatchObject({ state: 'sending', attempts: 1 });
    expect(await repo.markSent(rowA!.id, a.lease, '250 OK', at)).toBe(true);
    expect(await repo.find(rowA!.id)).toMatchObject({ state: 'sent' });
  });
});
