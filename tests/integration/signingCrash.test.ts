import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { crashRandom } from '../helpers/crashSeed';
import { freePort, spawnServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { aSigner, sign } from '../helpers/testApp';
import { createSpawnedDatabase, openStoreAt, postgresUrl, type SpawnedDatabase } from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';
const clients = 8;
const rounds = 3;

const recipient = (mail: ParsedMail) => (mail.to && 'text' in mail.to ? mail.to.text : '');

describe(`signing while the server is killed (SECURITY 15), on ${engine}`, () => {
  const random = crashRandom('signing crash test');
  let dir: string;
  let database: SpawnedDatabase;
  let smtp: SmtpSink;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-crash-'));
    database = await createSpawnedDatabase(dir, 'crash.db');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp.close();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`stores every signature answered 303 exactly once, and mails it after a restart (SIGKILL ×${rounds}, CRASH_SEED=${random.seed})`, async () => {
    const env = {
      NODE_ENV: 'test',
      ...database.env,
      DATA_DIR: dir,
      SECRET: 'a-crash-test-secret-that-is-long-enough-0',
      SMTP_URL: smtp.url,
      SQLITE_SYNCHRONOUS: 'FULL',
      // Every signer comes from 127.0.0.1: the burst must not be cut short by the per-IP limits.
      SIGN_LIMIT_PER_MINUTE: '1000000',
      SIGN_LIMIT_PER_5_MINUTES: '1000000',
      // A killed server's claimed mails are sent again once their lease runs out.
      OUTBOX_LEASE_MS: '1000',
      OUTBOX_POLL_MS: '100',
      DELIVERY_IN_SERVER: 'false',
      LOG_LEVEL: 'warn',
    };
    const port = await freePort();
    const acknowledged: string[] = [];
    let cutShort = 0;

    for (let round = 0; round < rounds; round++) {
      const server = spawnServer(port, env);
      await server.ready;
      const killed = { now: false };
      // Signers sign one after another, each on their own connection, until the server is gone.
      const signer = async (client: number) => {
        const agent = request.agent(server.url);
        for (let i = 0; !killed.now; i++) {
          const email = `crash-${round}-${client}-${i}@example.org`;
          try {
            const res = await sign(agent, slug, { ...aSigner, name: `Signer ${round} ${client} ${i}`, email });
            if (res.status === 303 && res.headers.location?.startsWith(`/petitions/${slug}/check-email?to=`)) {
              acknowledged.push(email);
            } else throw new Error(`unexpected answer ${res.status}`);
          } catch (error) {
            if (!killed.now) throw error;
            cutShort++; // in flight when the server died: it may or may not be stored
          }
        }
      };
      const burst = Array.from({ length: clients }, (_, c) => signer(c));
      // A replayable moment in the burst, once some signatures have been answered.
      const before = acknowledged.length;
      await until(() => acknowledged.length > before, 'a first signature to be answered', { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 50 + random.next() * 700));
      killed.now = true;
      server.child.kill('SIGKILL');
      expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
      await Promise.all(burst);
    }
    expect(cutShort).toBeGreaterThan(0); // the kills landed while signatures were on their way

    // Restarted, the server sends what the killed ones had queued or had in flight.
    const server = spawnServer(port, env);
    await server.ready;
    const opened = openStoreAt(database.location);
    const { store } = opened;
    try {
      const stored = (await store.all(store.qb.selectFrom('signatures').select('email'))).map((r) => r.email);
      const mailed = () => new Set(smtp.mails.map(recipient));
      const unmailed = () => stored.filter((email) => !mailed().has(email));
      // A killed server may have handed a mail to the relay without recording it as sent: the
      // restarted one sends it again once its lease runs out (with the same Message-ID, below), so
      // wait for the outbox to be empty too, not only for every address to have had its mail.
      const unsent = async () =>
        Number((await store.first(sql<{ n: number }>`SELECT count(*) AS n FROM outbox WHERE state <> 'sent'`))?.n);
      await until(async () => unmailed().length === 0 && (await unsent()) === 0, 'every confirmation mail sent', {
        timeoutMs: 30_000,
        everyMs: 50,
      }).catch(() => undefined);
      expect(unmailed()).toEqual([]);
      server.child.kill('SIGTERM');
      expect(await server.exited).toMatchObject({ code: 0 });

      // PostgreSQL has no integrity_check to run: its write-ahead log is replayed on every start.
      if (opened.sqlite) expect(opened.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      const perEmail = new Map(
        (
          await store.all(sql<{ email: string; n: number }>`SELECT email, count(*) AS n FROM signatures GROUP BY email`)
        ).map((r) => [r.email, Number(r.n)]),
      );
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(acknowledged.filter((email) => perEmail.get(email) !== 1)).toEqual([]);
      // At least once to the relay: a mail sent again after a crash carries the same Message-ID.
      for (const email of stored) {
        const ids = new Set(smtp.mails.filter((m) => recipient(m) === email).map((m) => m.messageId));
        expect([email, ids.size]).toEqual([email, 1]);
      }
      expect(await store.first(sql<{ n: number }>`SELECT count(*) AS n FROM outbox WHERE state <> 'sent'`)).toEqual({
        n: 0,
      });
    } finally {
      await opened.close();
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  }, 120_000);
});
