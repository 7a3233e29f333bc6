import { queueMails } from '../helpers/factories';
import { sql } from 'kysely';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { spawnWorker } from '../helpers/server';
import { createTestApp, sign, type TestApp } from '../helpers/testApp';
import { databaseEnv, postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';

/** `npm run worker`'s environment: the test app's database (SQLite file or PostgreSQL) and relay. */
function workerEnv(t: TestApp, env: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: 'info',
    ...databaseEnv(t.services.config),
    DATA_DIR: t.dir,
    SMTP_URL: t.smtp!.url,
    SECRET: t.services.config.secret,
    DELIVERY_IN_SERVER: 'false', // the worker schedules digests whatever the web processes are told
    OUTBOX_POLL_MS: '100',
    ...env,
  };
}

/**
 * The web app here runs no background work (as with DELIVERY_IN_SERVER=false behind a separate
 * worker): whatever mail arrives was sent by `npm run worker`, a process of its own.
 */
describe(`npm run worker on ${engine}`, () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { DELIVERY_IN_SERVER: 'false' } });
  });
  afterEach(async () => t.close());

  it('sends queued mail and the digests that fall due, and stops cleanly on SIGTERM', async () => {
    expect((await sign(t.agent(), slug)).status).toBe(303);
    await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Dante Alighieri', country: 'IT' }]);
    expect(t.smtp!.mails).toHaveLength(0);

    const worker = spawnWorker(workerEnv(t, { DELIVERY_INTERVAL_MS: '100', DIGEST_SIZE: '1' }));
    try {
      const mails = await t.smtp!.waitFor(2, 15_000);
      const subjects = mails.map((m) => m.subject ?? '');
      expect(mails.find((m) => m.to && 'text' in m.to && m.to.text === 'ada@example.org')).toBeDefined();
      const digest = mails.find((m) => m.attachments.some((a) => a.contentType.startsWith('text/csv')));
      expect(digest?.attachments[0]!.content.toString('utf8')).toContain('Dante Alighieri');
      expect(subjects).toHaveLength(2);
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect((await worker.exited).code).toBe(0);
    expect(worker.output()).toContain('worker stopping');
  });

  it('never sends a mail twice when two workers run at once', async () => {
    await queueMails(t.services, 150);
    // The relay holds its answers: a worker claims two batches of 50 at most while it waits, so all
    // 150 claimed at once means both workers hold claims side by side.
    const release = t.smtp!.hold();
    const workers = [0, 1].map(() => spawnWorker(workerEnv(t)));
    try {
      await until(async () => (await outboxByState(t))['sending'] === 150, 'both workers to claim mail', 20_000);
      release();
      await t.smtp!.waitFor(150, 30_000);
      await until(async () => (await outboxByState(t))['sent'] === 150, 'every mail recorded as sent', 10_000);
    } finally {
      release();
      for (const worker of workers) worker.child.kill('SIGTERM');
    }
    expect((await Promise.all(workers.map((w) => w.exited))).map((e) => e.code)).toEqual([0, 0]);
    const received = t.smtp!.mails.map((m) => m.messageId);
    expect(received).toHaveLength(150);
    expect(new Set(received).size).toBe(150);
    const rows = await t.services.store.all(
      sql<{
        state: string;
        attempts: number;
        n: number;
      }>`SELECT state, attempts, count(*) AS n FROM outbox GROUP BY 1, 2`,
    );
    expect(rows).toEqual([{ state: 'sent', attempts: 1, n: 150 }]);
  }, 60_000);
});

async function outboxByState(t: TestApp): Promise<Record<string, number>> {
  const rows = await t.services.store.all(
    sql<{ state: string; n: number }>`SELECT state, count(*) AS n FROM outbox GROUP BY state`,
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
