import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Request } from 'express';
import { migrationFiles } from '../../server/db/postgresStore';
import { backupSqlite } from '../../server/ops/backup';
import { metricsAllowed } from '../../server/ops/opsRoutes';
import { appEnv, root, runCli } from '../helpers/cli';
import { confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';

const slug = 'fund-defence-fairly';

/** A port on which nothing listens: a relay that is down. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('GET /healthz and /readyz', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('answers that the process is alive, and ready with its relay verified', async () => {
    t = await createTestApp();
    const health = await t.agent().get('/healthz').expect(200);
    expect(health.text).toBe('ok\n');
    const ready = await t.agent().get('/readyz').expect(200);
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', mail: 'relay verified' },
    });
  });

  it('is ready with mail captured to files when capture was chosen', async () => {
    t = await createTestApp({ smtp: false });
    const ready = await t.agent().get('/readyz').expect(200);
    expect(ready.body.checks.mail).toBe('captured to files');
  });

  it('is not ready while the relay cannot be reached', async () => {
    t = await createTestApp({ smtp: false, env: { SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` } });
    const ready = await t.agent().get('/readyz').expect(503);
    expect(ready.body.status).toBe('not ready');
    expect(ready.body.checks.mail).toMatch(/^relay not ready: E[A-Z]+$/);
    await t.agent().get('/healthz').expect(200);
  });

  it('is not ready when a migration this build ships is not applied', async () => {
    t = await createTestApp();
    await t.services.store.run(t.services.store.qb.deleteFrom('schema_migrations').where('version', '=', 5));
    const ready = await t.agent().get('/readyz').expect(503);
    expect(ready.body.checks.migrations).toBe('not applied: 5');
  });
});

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: 'a-metrics-token-for-the-scraper' } });
  });
  afterAll(async () => t.close());

  it('serves Prometheus text on loopback: requests by route pattern, signatures by state, the outbox', async () => {
    const agent = t.agent();
    expect((await sign(agent, slug)).status).toBe(303);
    await t.smtp!.waitFor(1);
    expect((await confirm(agent, confirmPath(t.smtp!.mails[0]!.text))).status).toBe(303);
    expect((await sign(agent, slug, { name: 'Grace Hopper', email: 'grace@example.org', country: 'US' })).status).toBe(
      303,
    );

    const res = await agent.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/petitions\/:slug",status="2xx"\} \d+/,
    );
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/petitions\/:slug\/signatures",status="3xx"\} 2/,
    );
    expect(res.text).not.toMatch(/route="\/signatures\/\d/); // a token never becomes a label
    expect(res.text).toContain(`undersigned_signatures{petition="${slug}",state="validated"} 1`);
    expect(res.text).toContain(`undersigned_signatures{petition="${slug}",state="pending"} 1`);
    expect(res.text).toMatch(
      /undersigned_outbox_mails\{kind="signature_confirmation",state="(sent|queued|sending)"\} \d/,
    );
    expect(res.text).toMatch(/undersigned_outbox_oldest_queued_seconds \d/);
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('refuses a request that came through a proxy unless it carries the token', async () => {
    await t.agent().get('/metrics').set('X-Forwarded-For', '198.51.100.7').expect(403);
    await t
      .agent()
      .get('/metrics')
      .set('X-Forwarded-For', '198.51.100.7')
      .set('Authorization', 'Bearer not-the-token')
      .expect(403);
    await t
      .agent()
      .get('/metrics')
      .set('X-Forwarded-For', '198.51.100.7')
      .set('Authorization', 'Bearer a-metrics-token-for-the-scraper')
      .expect(200);
  });

  it('lets another machine in only with the token', () => {
    const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
      ({ socket: { remoteAddress }, get: (name: string) => headers[name.toLowerCase()] }) as unknown as Request;
    expect(metricsAllowed(from('127.0.0.1'), undefined)).toBe(true);
    expect(metricsAllowed(from('::1'), undefined)).toBe(true);
    expect(metricsAllowed(from('::ffff:127.0.0.1'), undefined)).toBe(true);
    expect(metricsAllowed(from('203.0.113.9'), undefined)).toBe(false);
    expect(metricsAllowed(from('203.0.113.9'), 'tok')).toBe(false);
    expect(metricsAllowed(from('203.0.113.9', { authorization: 'Bearer tok' }), 'tok')).toBe(true);
    expect(metricsAllowed(from('203.0.113.9', { authorization: 'Bearer tok' }), undefined)).toBe(false);
    expect(metricsAllowed(from('127.0.0.1', { forwarded: 'for=203.0.113.9' }), undefined)).toBe(false);
  });
});

// SQLite only: the command copies the SQLite file; on PostgreSQL it refuses (tested below).
// SQLite's own (a file copy, a PRAGMA): defined only where it applies, not skipped.
(postgresUrl ? () => undefined : describe)('npm run backup', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('copies the live database consistently while the server writes, and checks the copy', async () => {
    const agent = t.agent();
    const writes = Array.from({ length: 20 }, (_, i) =>
      sign(agent, slug, { name: `Signer ${i}`, email: `s${i}@example.org`, country: 'FR' }),
    );
    const out = path.join(t.dir, 'backups', 'copy.db');
    const [result] = await Promise.all([backupSqlite(t.services.config.databasePath, out), ...writes]);
    expect(result.integrity).toBe('ok');
    const copy = new BetterSqlite3(out, { readonly: true });
    const n = copy.prepare('SELECT count(*) FROM signatures').pluck().get() as number;
    const migrations = copy.prepare('SELECT count(*) FROM schema_migrations').pluck().get() as number;
    copy.close();
    expect(n).toBeGreaterThanOrEqual(0);
    expect(n).toBeLessThanOrEqual(20);
    expect(migrations).toBe(migrationFiles(path.join(root, 'db', 'migrations')).length); // every one this build ships
    expect(fs.readdirSync(path.dirname(out))).toEqual(['copy.db']); // no partial file left behind
  });

  const backupCli = (args: string[]) => runCli('server/ops/backupCli.ts', args, appEnv(t));

  it('from the command line: says where the copy went, or why there is none', async () => {
    const out = path.join(t.dir, 'cli-copy.db');
    const ok = await backupCli(['--out', out]);
    expect(ok.stderr).toMatch(/^backup: .+ copied to .+cli-copy\.db \([\d.]+ MB\), integrity ok\n$/);
    expect(ok.code).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    const live = t.services.config.databasePath;
    for (const itself of [live, `${live}-wal`]) {
      const refused = await backupCli(['--out', itself]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--out names the database itself');
    }
    expect(t.services.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const missing = await backupCli([]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Usage: npm run backup -- --out FILE');
  });
});

// PostgreSQL's own: defined only where it applies, not skipped.
(postgresUrl ? describe : () => undefined)('npm run backup, with DATABASE_URL set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterAll(async () => t.close());

  it('copies nothing and says how to back PostgreSQL up instead', async () => {
    const out = path.join(t.dir, 'cli-copy.db');
    const refused = await runCli('server/ops/backupCli.ts', ['--out', out], appEnv(t));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('DATABASE_URL is set: the data is in PostgreSQL');
    expect(refused.stderr).toContain('pg_dump --format=custom');
    expect(fs.existsSync(out)).toBe(false);
  });
});
