import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { createApp } from '../../server/app';
import { createLogger } from '../../server/logger';
import { createServices, type Services } from '../../server/services';
import { freePort, spawnServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { aSigner, confirm, confirmPath, countOn, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { createSpawnedDatabase, openStoreAt, postgresUrl, type SpawnedDatabase } from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';

/** The count a petition page shows (the thermometer's value). */
const shownCount = (html: string) => Number(/<progress class="thermometer" max="\d+" value="(\d+)"/.exec(html)?.[1]);

/**
 * Two web processes on one database, as WEB_CONCURRENCY=2 runs them: here two sets of services on
 * the same database (the SQLite file, or PostgreSQL under `npm run test:pg`), each with its own
 * connection and memory, so that what one process keeps to itself shows.
 */
describe(`two web processes on one database (${engine})`, () => {
  let now = Date.UTC(2026, 10, 30, 12);
  const clock = () => now;
  let a: TestApp;
  let b: Services;
  let appB: ReturnType<typeof createApp>;
  beforeAll(async () => {
    a = await createTestApp({ clock, env: { WEB_CONCURRENCY: '2', SIGN_LIMIT_PER_MINUTE: '3' } });
    b = await createServices(a.services.config, createLogger('silent'), { clock });
    appB = createApp(b);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('count the signing rate limits together', async () => {
    const states: string[] = [];
    // Three from one address through each process: six in a minute, over the limit of three.
    for (let i = 0; i < 6; i++) {
      const agent = i % 2 === 0 ? a.agent() : request.agent(appB);
      expect((await sign(agent, slug, { ...aSigner, email: `rate-${i}@example.org` })).status).toBe(303);
      now += 1000;
    }
    const store = a.services.store;
    const rows = await store.all(
      store.qb.selectFrom('signatures').select(['email', 'state']).where('email', 'like', 'rate-%').orderBy('id'),
    );
    for (const row of rows) states.push(row.state);
    expect(states).toEqual(['pending', 'pending', 'pending', 'fraudulent', 'fraudulent', 'fraudulent']);
    // A minute later the window has moved on, for both.
    now += 61_000;
    expect((await sign(request.agent(appB), slug, { ...aSigner, email: 'rate-later@example.org' })).status).toBe(303);
    expect(
      await store.all(store.qb.selectFrom('signatures').select('state').where('email', '=', 'rate-later@example.org')),
    ).toEqual([{ state: 'pending' }]);
  });

  it('never show a count older than COUNT_REFRESH_SECONDS (10 s by default)', async () => {
    const viewer = request.agent(appB);
    const before = await countOn(viewer, slug);
    const signer = a.agent();
    expect((await sign(signer, slug, { ...aSigner, email: 'fresh@example.org' })).status).toBe(303);
    const sentTo = (m: ParsedMail) => (m.to && 'text' in m.to ? m.to.text : '');
    await until(() => a.smtp!.mails.some((m) => sentTo(m) === 'fresh@example.org'), 'the confirmation mail');
    const mail = a.smtp!.mails.find((m) => sentTo(m) === 'fresh@example.org')!;
    expect((await confirm(signer, confirmPath(mail.text))).status).toBe(303);
    // The process that validated it shows it at once; the other within the refresh interval.
    expect(await countOn(a.agent(), slug)).toBe(before + 1);
    now += 9_000;
    const meanwhile = await countOn(viewer, slug);
    expect([before, before + 1]).toContain(meanwhile);
    now += 1_000;
    expect(await countOn(viewer, slug)).toBe(before + 1);
  });

  it('never serve a prepared petition page (or its ETag) older than the interval', async () => {
    const pageOn = async (app: typeof appB) => {
      const res = await request(app).get(`/petitions/${slug}`).expect(200);
      return { count: shownCount(res.text), etag: res.headers.etag! };
    };
    now += 60_000; // both caches expired: each process reads the database afresh
    const before = await pageOn(appB);
    expect(await pageOn(a.app)).toEqual(before);
    const signer = a.agent();
    expect((await sign(signer, slug, { ...aSigner, email: 'page@example.org' })).status).toBe(303);
    const sentTo = (m: ParsedMail) => (m.to && 'text' in m.to ? m.to.text : '');
    await until(() => a.smtp!.mails.some((m) => sentTo(m) === 'page@example.org'), 'the confirmation mail');
    const mail = a.smtp!.mails.find((m) => sentTo(m) === 'page@example.org')!;
    expect((await confirm(signer, confirmPath(mail.text))).status).toBe(303);
    expect((await pageOn(a.app)).count).toBe(before.count + 1);
    now += 9_999;
    // Still within the interval: the other process may serve its prepared bytes, and 304 for them.
    const meanwhile = await pageOn(appB);
    expect([before.count, before.count + 1]).toContain(meanwhile.count);
    await request(appB).get(`/petitions/${slug}`).set('If-None-Match', meanwhile.etag).expect(304);
    now += 1;
    const after = await pageOn(appB);
    expect(after.count).toBe(before.count + 1);
    expect(after.etag).not.toBe(before.etag);
    await request(appB).get(`/petitions/${slug}`).set('If-None-Match', before.etag).expect(200);
  });
});

describe(`WEB_CONCURRENCY=2 npm start on ${engine}`, () => {
  let dir: string;
  let database: SpawnedDatabase;
  let smtp: SmtpSink;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-cluster-'));
    database = await createSpawnedDatabase(dir, 'cluster.db');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
    await smtp.close();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves from two workers, stores every answered signature under load, and stops on SIGTERM', async () => {
    const port = await freePort();
    const server = spawnServer(port, {
      NODE_ENV: 'test',
      WEB_CONCURRENCY: '2',
      ...database.env,
      DATA_DIR: dir,
      SECRET: 'a-cluster-test-secret-that-is-long-enough',
      SMTP_URL: smtp.url,
      SIGN_LIMIT_PER_MINUTE: '1000000',
      SIGN_LIMIT_PER_5_MINUTES: '1000000',
      OUTBOX_POLL_MS: '100',
      LOG_LEVEL: 'info',
    });
    children.push(server.child);
    await server.ready;

    const acknowledged: string[] = [];
    const unexpected: string[] = [];
    let signalled = false;
    const signer = async (client: number) => {
      for (let i = 0; ; i++) {
        const email = `cluster-${client}-${i}@example.org`;
        try {
          // A new connection for each request: the primary hands connections to the workers in turn.
          await (await fetch(`${server.url}/petitions/${slug}`, { headers: { connection: 'close' } })).text();
          const form = new URLSearchParams({ ...aSigner, name: 'Cluster Signer', email });
          const res = await fetch(`${server.url}/petitions/${slug}/signatures`, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
            body: form.toString(),
          });
          if (res.status === 303) acknowledged.push(email);
          else unexpected.push(`${email}: ${res.status}`);
        } catch (error) {
          if (!signalled) unexpected.push(`${email}: ${String(error)} before SIGTERM`);
          return;
        }
      }
    };
    const burst = Array.from({ length: 4 }, (_, c) => signer(c));
    await until(() => acknowledged.length >= 60, 'a burst well under way', 30_000);
    signalled = true;
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await Promise.all(burst);
    expect(unexpected).toEqual([]);

    const log = server.output();
    // Both workers answered requests, and both stopped cleanly.
    const pids = new Set(
      log
        .split('\n')
        .filter((line) => line.includes('"request completed"') && line.includes('/signatures'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    );
    expect(pids.size).toBe(2);
    expect(log).toContain('Undersigned web worker 1: stopped');
    expect(log).toContain('Undersigned web worker 2: stopped');
    expect(log).toContain('Undersigned: every web worker stopped');
    expect(log).not.toContain('"level":50');

    const { store, close } = openStoreAt(database.location);
    try {
      const perEmail = new Map(
        (
          await store.all(sql<{ email: string; n: number }>`SELECT email, count(*) AS n FROM signatures GROUP BY email`)
        ).map((r) => [r.email, Number(r.n)]),
      );
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(acknowledged.filter((email) => perEmail.get(email) !== 1)).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  const clusterEnv = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    WEB_CONCURRENCY: '2',
    ...database.env,
    DATA_DIR: dir,
    SECRET: 'a-cluster-test-secret-that-is-long-enough',
    SMTP_URL: smtp.url,
    LOG_LEVEL: 'info',
    ...extra,
  });

  it('stops gracefully when the whole process group gets SIGTERM at once, as systemd does by default', async () => {
    const port = await freePort();
    const server = spawnServer(port, clusterEnv(), { processGroup: true });
    children.push(server.child);
    await server.ready;
    await until(() => (server.output().match(/web worker \d listening/g) ?? []).length === 2, 'both workers listening');
    process.kill(-server.child.pid!, 'SIGTERM');
    const exit = await server.exited;
    if (exit.code !== 0)
      console.log(
        server
          .output()
          .split('\n')
          .filter((l) => !l.includes('request completed'))
          .join('\n'),
      );
    expect(exit).toEqual({ code: 0, signal: null });
    const log = server.output();
    expect(log).not.toContain('exiting without finishing');
    expect(log).toContain('Undersigned web worker 1: stopped');
    expect(log).toContain('Undersigned web worker 2: stopped');
  }, 60_000);

  it('serves every worker’s petition page with the new count once COUNT_REFRESH_SECONDS has passed', async () => {
    // A database of its own: the burst above left its signatures, and its address rate-limited.
    const own = await createSpawnedDatabase(dir, 'refresh.db');
    const port = await freePort();
    const env = { ...clusterEnv({ COUNT_REFRESH_SECONDS: '1', OUTBOX_POLL_MS: '100' }), ...own.env };
    const server = spawnServer(port, env);
    children.push(server.child);
    await server.ready;
    // A new connection for each request: the primary hands connections to the workers in turn.
    const counts = async () => {
      const pages = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${server.url}/petitions/${slug}`, { headers: { connection: 'close' } });
        expect(res.headers.get('set-cookie')).toBeNull();
        pages.push(shownCount(await res.text()));
      }
      return pages;
    };
    const before = await counts();
    expect(new Set(before).size).toBe(1);
    const email = 'spawned@example.org';
    const browser = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
    const signed = await fetch(`${server.url}/petitions/${slug}/signatures`, {
      method: 'POST',
      redirect: 'manual',
      headers: browser,
      body: new URLSearchParams({ ...aSigner, email }).toString(),
    });
    expect(signed.status).toBe(303);
    const sentTo = (m: ParsedMail) => (m.to && 'text' in m.to ? m.to.text : '');
    await until(() => smtp.mails.some((m) => sentTo(m) === email), 'the confirmation mail', 15_000);
    const link = /(\/signatures\/[^\s]+\/confirm)/.exec(smtp.mails.find((m) => sentTo(m) === email)!.text!)![1]!;
    const confirmed = await fetch(`${server.url}${link}`, { method: 'POST', redirect: 'manual', headers: browser });
    expect(confirmed.status).toBe(303);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await counts()).toEqual(before.map((n) => n + 1));
    server.child.kill('SIGTERM');
    await server.exited;
    await own.drop();
  }, 60_000);

  it('exits 1, saying why, when the port is taken, with one process or two', async () => {
    // Someone else's server on the port (it hangs up on whoever calls, so that it can close).
    const taken = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      for (const workers of ['1', '2']) {
        const server = spawnServer(port, clusterEnv({ WEB_CONCURRENCY: workers }));
        children.push(server.child);
        server.ready.catch(() => undefined); // it never answers: the port is someone else's
        expect(await server.exited).toEqual({ code: 1, signal: null });
        expect(server.output()).toContain(`Undersigned cannot listen on 127.0.0.1:${port}`);
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);
});
