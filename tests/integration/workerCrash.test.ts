import { sql, type RawBuilder } from 'kysely';
import { crashRandom } from '../helpers/crashSeed';
import { crashWindow } from '../helpers/crashWindow';
import { addressTargets, countries, deliverySlug, perTarget } from '../helpers/digests';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { spawnWorker } from '../helpers/server';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { databaseEnv, postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const rounds = 4;

/**
 * The delivery worker (`npm run worker`) killed while it sends digests, on both databases: no
 * signature is lost, and no digest reaches the relay twice except inside the documented crash window
 * (the relay accepted it and the worker died before recording it: crashWindow tells those apart).
 */
describe(`the delivery worker killed mid-send (SIGKILL), on ${engine}`, () => {
  const random = crashRandom('worker crash test');
  let t: TestApp;
  beforeAll(async () => {
    // A slow relay, so that a kill lands while digests are on their way.
    t = await createTestApp({ smtp: { delayMs: 40 }, env: { DELIVERY_IN_SERVER: 'false' } });
    await addressTargets(t.services.store);
  });
  afterAll(async () => t.close());

  const count = async (query: RawBuilder<unknown>) => ((await t.services.store.first(query)) as { n: number }).n;

  it(`sends every digest, and none twice outside the crash window (SIGKILL ×${rounds}, CRASH_SEED=${random.seed})`, async () => {
    const smtp = t.smtp!;
    const env = {
      LOG_LEVEL: 'warn',
      ...databaseEnv(t.services.config),
      DATA_DIR: t.dir,
      SMTP_URL: smtp.url,
      SECRET: t.services.config.secret,
      // Small digests, planned as soon as signatures are due; killed workers' leases run out quickly.
      DELIVERY_INTERVAL_MS: '100',
      DIGEST_SIZE: '1',
      DIGEST_MAX: '2',
      OUTBOX_POLL_MS: '100',
      OUTBOX_LEASE_MS: '1500',
    };
    const window = crashWindow(t.services.store, smtp);
    const signers: Array<{ name: string; country: string }> = [];
    let interrupted = 0;
    for (let round = 0; round < rounds; round++) {
      // More signatures arrive between the crashes, as they would in production.
      const more = Array.from({ length: 20 }, (_, i) => ({ name: `Round ${round}.${i}`, country: countries[i % 4]! }));
      await addValidatedSignaturesTo(t.services.store, deliverySlug, more);
      signers.push(...more);
      const worker = spawnWorker(env);
      // Mid-send: once the relay has received one to five more of its digests.
      await smtp.waitForReceived(smtp.received + 1 + Math.floor(random.next() * 5), 30_000);
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
      await window.afterKill();
      if ((await count(sql`SELECT count(*) AS n FROM outbox WHERE state <> 'sent'`)) > 0) interrupted++;
    }
    expect(interrupted).toBe(rounds); // every kill left digests unsent

    // A worker that is left alone sends the rest once the killed workers' leases run out.
    const worker = spawnWorker(env);
    try {
      await until(
        () => {
          const { expected, actual } = perTarget(smtp.mails, signers);
          return JSON.stringify(actual) === JSON.stringify(expected);
        },
        'every signature delivered to every target',
        { timeoutMs: 60_000, everyMs: 50 },
      ).catch(() => undefined);
      await until(
        async () => (await count(sql`SELECT count(*) AS n FROM outbox WHERE state <> 'sent'`)) === 0,
        'every digest recorded as sent',
        10_000,
      ).catch(() => undefined);
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect((await worker.exited).code).toBe(0);

    const { expected, actual } = perTarget(smtp.mails, signers);
    expect(actual).toEqual(expected);
    expect(window.unexplained()).toEqual([]);
    expect(await count(sql`SELECT count(*) AS n FROM batches WHERE state <> 'sent'`)).toBe(0);
    expect(await count(sql`SELECT count(*) AS n FROM outbox WHERE state <> 'sent'`)).toBe(0);
    // Each batch's digest went to the relay under one Message-ID, its outbox row's.
    const batches = await count(sql`SELECT count(*) AS n FROM batches`);
    expect(new Set(smtp.mails.map((m) => m.messageId)).size).toBe(batches);
    if (!postgresUrl) expect(t.services.db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 120_000);
});
