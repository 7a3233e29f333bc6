import { queueMails } from '../helpers/factories';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { Executor } from '../../server/db/store';
import { freePort, spawnServer, spawnWorker } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { aSigner, createTestApp, type TestApp } from '../helpers/testApp';
import {
  createSpawnedDatabase,
  databaseEnv,
  openStoreAt,
  postgresUrl,
  type SpawnedDatabase,
} from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';
const clients = 8;

const recipient = (mail: ParsedMail) => (mail.to && 'text' in mail.to ? mail.to.text : '');

/** One signing as a browser does it: the page, then the form. */
async function signOnce(agent: TestAgent, name: string, email: string): Promise<number> {
  const page = await agent.get(`/petitions/${slug}`);
  if (page.status !== 200) return page.status;
  const res = await agent
    .post(`/petitions/${slug}/signatures`)
    .type('form')
    .send({ ...aSigner, name, email });
  return res.status === 303 && res.headers.location?.startsWith(`/petitions/${slug}/check-email?to=`)
    ? 303
    : res.status;
}

/**
 * A signature whose form is still arriving (half its body sent): a request the server has begun and
 * not answered. `finish()` sends the rest and resolves with the answer.
 */
async function slowSignature(url: string, email: string) {
  await (await fetch(`${url}/petitions/${slug}`)).text();
  const form = new URLSearchParams({ ...aSigner, name: 'Slow Signer', email });
  const body = Buffer.from(form.toString());
  const req = http.request(`${url}/petitions/${slug}/signatures`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
  });
  const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  // Once the first bytes are on the wire, a request on a connection opened after ours is answered
  // only after the server has accepted our connection and read our request's head.
  await new Promise((resolve) => req.write(body.subarray(0, 20), resolve));
  await new Promise((resolve, reject) =>
    http.get(`${url}/healthz`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject),
  );
  return {
    finish: async () => {
      req.end(body.subarray(20));
      const res = await answer;
      res.resume();
      return { status: res.statusCode, connection: res.headers.connection };
    },
  };
}

/** Whether a new connection to the port is refused (nothing listens there any more). */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** What the outbox holds: rows by state, and those still leased. */
async function outboxState(store: Executor) {
  const rows = await store.all(
    sql<{ state: string; n: number }>`SELECT state, count(*) AS n FROM outbox GROUP BY state`,
  );
  const leased = await store.first(sql<{ n: number }>`SELECT count(*) AS n FROM outbox WHERE lease_until IS NOT NULL`);
  return { byState: Object.fromEntries(rows.map((r) => [r.state, r.n])), leased: leased!.n };
}

describe(`SIGTERM: the server stops gracefully (${engine})`, () => {
  let dir: string;
  let database: SpawnedDatabase;
  let smtp: SmtpSink;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-shutdown-'));
    database = await createSpawnedDatabase(dir, 'shutdown.db');
    // A slow relay: the sender has mail in hand, and more claimed, whenever the signal comes.
    smtp = await startSmtpSink({ delayMs: 40 });
  });
  afterAll(async () => {
    await smtp.close();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
  });

  it('answers the requests in flight, records the mail in hand, gives back the rest, and exits 0', async () => {
    const env = {
      NODE_ENV: 'test',
      ...database.env,
      DATA_DIR: dir,
      SECRET: 'a-shutdown-test-secret-that-is-long-enough',
      SMTP_URL: smtp.url,
      SIGN_LIMIT_PER_MINUTE: '1000000',
      SIGN_LIMIT_PER_5_MINUTES: '1000000',
      OUTBOX_POLL_MS: '100',
      DELIVERY_IN_SERVER: 'false',
      LOG_LEVEL: 'info',
    };
    const port = await freePort();
    const server = spawnServer(port, env);
    children.push(server.child);
    await server.ready;

    const acknowledged: string[] = [];
    const unexpected: string[] = [];
    let refused = 0;
    let signalled = false;
    // Each signer signs again and again on its own kept-alive connection until the server is gone.
    const signer = async (client: number) => {
      const agent = request.agent(server.url);
      for (let i = 0; ; i++) {
        const email = `shutdown-${client}-${i}@example.org`;
        try {
          const status = await signOnce(agent, `Signer ${client} ${i}`, email);
          if (status === 303) acknowledged.push(email);
          else unexpected.push(`${email}: ${status}${signalled ? ' after SIGTERM' : ''}`);
        } catch (error) {
          // No answer (a connection refused, reset or closed), which only the signal may cause.
          if (!signalled) unexpected.push(`${email}: ${String(error)} before SIGTERM`);
          refused++;
          return;
        }
      }
    };
    const burst = Array.from({ length: clients }, (_, c) => signer(c));
    await until(() => acknowledged.length >= 80 && smtp.received >= 10, 'a burst well under way', 30_000);
    expect(unexpected).toEqual([]);
    const slow = await slowSignature(server.url, 'slow@example.org');
    // A client that never finishes its request's head must not hold the server open either.
    const stalled = net.connect(port, '127.0.0.1');
    let stalledAnswer = '';
    stalled.on('data', (d: Buffer) => (stalledAnswer += d.toString()));
    stalled.on('error', () => undefined); // reset by the server, as it may be
    const stalledClosed = new Promise((resolve) => stalled.on('close', resolve));
    await new Promise((resolve) => stalled.write(`GET /petitions/${slug} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, resolve));
    signalled = true;
    server.child.kill('SIGTERM');
    await until(() => refuses(port), 'the server to refuse new connections');
    // The request in flight when the signal came is answered, and its connection not kept.
    expect(await slow.finish()).toEqual({ status: 303, connection: 'close' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await Promise.all(burst);
    acknowledged.push('slow@example.org');
    await stalledClosed;
    expect(stalledAnswer).toBe('');
    // The SQLite database was closed, not abandoned: its last connection checkpointed and removed
    // the WAL. (PostgreSQL's pool closes with the process: what was committed is all that counts.)
    if (!postgresUrl) expect(fs.existsSync(`${database.location}-wal`)).toBe(false);

    expect(unexpected).toEqual([]);
    expect(refused).toBe(clients);
    const log = server.output();
    expect(log).toContain('HTTP: every request answered, every connection closed');
    expect(log).toContain('Undersigned: stopped');
    expect(log).not.toContain('"level":50');

    const opened = openStoreAt(database.location);
    try {
      // Every signature answered 303 is stored, once.
      const perEmail = new Map(
        (
          await opened.store.all(
            sql<{ email: string; n: number }>`SELECT email, count(*) AS n FROM signatures GROUP BY email`,
          )
        ).map((r) => [r.email, r.n]),
      );
      expect(acknowledged.filter((email) => perEmail.get(email) !== 1)).toEqual([]);
      // What the relay accepted is recorded as sent; nothing is left claimed: what the sender had
      // claimed and not sent is queued again, with no lease.
      const { byState, leased } = await outboxState(opened.store);
      expect(Object.keys(byState).filter((state) => state !== 'sent' && state !== 'queued')).toEqual([]);
      expect(leased).toBe(0);
      expect(byState.sent).toBe(smtp.mails.length);
      expect(byState.queued).toBeGreaterThan(0); // the signal came while mail was waiting
    } finally {
      await opened.close();
    }

    // Restarted, the server sends the rest: every stored signature gets exactly one confirmation.
    const again = spawnServer(port, env);
    children.push(again.child);
    await again.ready;
    const check = openStoreAt(database.location);
    try {
      const stored = (await check.store.all(check.store.qb.selectFrom('signatures').select('email'))).map(
        (r) => r.email,
      );
      const mailsTo = (email: string) => smtp.mails.filter((m) => recipient(m) === email).length;
      await until(() => stored.every((email) => mailsTo(email) > 0), 'a confirmation mail for every signature', {
        timeoutMs: 30_000,
        everyMs: 50,
      }).catch(() => undefined);
      expect(stored.filter((email) => mailsTo(email) !== 1)).toEqual([]);
      again.child.kill('SIGTERM');
      expect(await again.exited).toEqual({ code: 0, signal: null });
      expect(await outboxState(check.store)).toEqual({ byState: { sent: stored.length }, leased: 0 });
    } finally {
      await check.close();
    }
  }, 120_000);
});

describe(`SIGTERM: the services close (${engine})`, () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('commits, and answers, a signature still waiting for the group commit', async () => {
    t = await createTestApp();
    const petition = (await t.services.petitions.page(slug, 'en'))!.petition;
    const values = {
      name: 'Grace Hopper',
      email: 'grace@example.org',
      country: 'US',
      postcode: '',
      showPublicly: true,
      updates: false,
    };
    const signing = t.services.signatures.sign(petition, values, '203.0.113.7', 'en');
    await t.closeServices();
    await expect(signing).resolves.toBeUndefined();
    const { config } = t.services;
    const { store, close } = openStoreAt(config.databaseUrl ?? config.databasePath);
    try {
      expect(
        await store.all(store.qb.selectFrom('signatures').select('state').where('email', '=', 'grace@example.org')),
      ).toEqual([{ state: 'pending' }]);
      expect(await store.all(store.qb.selectFrom('outbox').select(['recipient', 'state']))).toEqual([
        { recipient: 'grace@example.org', state: 'queued' },
      ]);
    } finally {
      await close();
    }
  });
});

/** `npm run worker` on the test app's database and relay. */
function workerOn(t: TestApp) {
  return spawnWorker({
    LOG_LEVEL: 'info',
    ...databaseEnv(t.services.config),
    DATA_DIR: t.dir,
    SMTP_URL: t.smtp!.url,
    SECRET: t.services.config.secret,
    OUTBOX_POLL_MS: '100',
  });
}

describe(`SIGTERM: the worker stops gracefully (${engine})`, () => {
  let t: TestApp;
  let release: (() => void) | undefined;
  let worker: ReturnType<typeof workerOn> | undefined;
  afterEach(async () => {
    if (worker?.child.exitCode === null && !worker.child.signalCode) worker.child.kill('SIGKILL');
    release?.();
    await t.close();
  });

  /**
   * 200 mails queued; the worker claims two batches of 50 and hands 10 to its transport: one on each
   * of its 5 connections to the relay (which holds its answers), one waiting for each.
   */
  async function workerWithMailInHand() {
    t = await createTestApp({ env: { DELIVERY_IN_SERVER: 'false' } });
    await queueMails(t.services, 200);
    release = t.smtp!.hold();
    worker = workerOn(t);
    await t.smtp!.waitForReceived(5, 30_000);
    await until(async () => (await inState('sending')) === 100, 'two batches claimed', 10_000);
    return worker;
  }

  const inState = async (state: string) =>
    (await t.services.store.first(sql<{ n: number }>`SELECT count(*) AS n FROM outbox WHERE state = ${state}`))!.n;
  const queued = () => inState('queued');
  const rows = () =>
    t.services.store.all(
      sql`SELECT state, attempts, CASE WHEN lease_until IS NULL THEN 0 ELSE 1 END AS leased, count(*) AS n
          FROM outbox GROUP BY 1, 2, 3 ORDER BY 1`,
    );

  it('records the mail in hand, gives back the rest of what it claimed, and exits 0', async () => {
    const running = await workerWithMailInHand();
    running.child.kill('SIGTERM');
    // What the transport had not taken goes back at once, while the relay still holds its answers.
    await until(async () => (await queued()) === 190, 'the claimed mail not yet sent to be back in the queue');
    expect(await rows()).toEqual([
      { state: 'queued', attempts: 0, leased: 0, n: 190 },
      { state: 'sending', attempts: 1, leased: 1, n: 10 },
    ]);

    release!();
    expect((await running.exited).code).toBe(0);
    expect(t.smtp!.mails).toHaveLength(10); // the mail in hand, and nothing more
    expect(await rows()).toEqual([
      { state: 'queued', attempts: 0, leased: 0, n: 190 },
      { state: 'sent', attempts: 1, leased: 0, n: 10 },
    ]);
    const sentIds = (
      await t.services.store.all(
        t.services.store.qb.selectFrom('outbox').select('message_id').where('state', '=', 'sent'),
      )
    ).map((r) => r.message_id);
    expect(new Set(sentIds)).toEqual(new Set(t.smtp!.mails.map((m) => m.messageId)));
    expect(running.output()).toContain('the mail in hand is recorded');
    expect(running.output()).toContain('Undersigned worker: stopped');
  }, 60_000);

  it('exits at once on a second SIGTERM, leaving only the mail in hand leased', async () => {
    const running = await workerWithMailInHand();
    running.child.kill('SIGTERM');
    await until(async () => (await queued()) === 190, 'the claimed mail not yet sent to be back in the queue');
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(1);
    expect(running.output()).toContain('second SIGTERM');
    // As after a crash: the ten in hand are sent again once their lease runs out.
    expect(await rows()).toEqual([
      { state: 'queued', attempts: 0, leased: 0, n: 190 },
      { state: 'sending', attempts: 1, leased: 1, n: 10 },
    ]);
  }, 60_000);
});
