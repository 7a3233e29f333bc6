/**
 * npm run bench:sign — the real sign route (CSRF, validation, fraud checks, group commit with
 * synchronous=FULL, confirmation mail through the outbox to a local SMTP sink) against a bare Express
 * route doing one INSERT, both under the same load in the same run. Last line:
 * `ratio: <app req/s / bare req/s>`.
 *
 * The app runs as production would: no address is exempt from the rate limits, and every request is
 * logged at LOG_LEVEL=info, as JSON, to a file in place of stdout. The load comes as from many people:
 * each source address in 127.0.0.0/8 sends a few signatures (fewer than the limit allows) on its own
 * connection, so the rate-limit and block checks run, and pass, for every one. The run checks that
 * every 303 wrote one pending row, that the server saw as many addresses as were used, that the
 * request log has a line per request, and that a sixth signature from one address within the minute
 * is flagged; it exits non-zero otherwise.
 *
 * `npm run bench:sign -- --pg` runs the same load against the app on PostgreSQL (a new database on
 * the server at BENCH_DATABASE_URL, by default the cluster `.ci/postgres.sh start` runs), against a
 * bare route doing one INSERT through a `pg` pool on that server. Its figures are printed, not gated:
 * PostgreSQL on two cores shares them with the app and the load.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import express from 'express';
import { sql } from 'kysely';
import pg from 'pg';
import { hashIp } from '../server/security/tokens';
import {
  listen,
  load,
  printTable,
  slug,
  startApp,
  startSmtpSink,
  tempDir,
  verdict,
  warmUp,
  type LoadOptions,
  type LoadResult,
} from './lib';

const measureSeconds = 10;
/** Signatures per source address, one connection each: one fewer than the limit of 5 a minute for a petition. */
const perAddress = 4;
const onPostgres = process.argv.includes('--pg');
const postgresServer =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://undersigned@127.0.0.1:54329/undersigned';

/** A new database on the PostgreSQL server, and how to drop it. */
async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `undersigned_bench_${process.pid}_${Date.now()}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: postgresServer });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(postgresServer);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The same floor on PostgreSQL: one INSERT per request through a pool, each its own transaction. */
async function startBarePostgres(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(`CREATE TABLE signatures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, petition_id BIGINT NOT NULL, name TEXT NOT NULL,
    email TEXT NOT NULL, email_canonical TEXT NOT NULL, country_code TEXT NOT NULL, postcode TEXT,
    show_publicly INTEGER NOT NULL, updates_opt_in INTEGER NOT NULL, consent_version TEXT NOT NULL,
    consent_at BIGINT NOT NULL, ip_hash TEXT, locale TEXT NOT NULL, state TEXT NOT NULL, created_at BIGINT NOT NULL)`);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/sign', async (req, res) => {
    const { name, email, country } = req.body as Record<string, string>;
    await pool.query(
      `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
         updates_opt_in, consent_version, consent_at, ip_hash, locale, state, created_at)
       VALUES (1, $1, $2, lower($2), $3, NULL, 1, 0, '2026-11-26', $4, NULL, 'en', 'pending', $4)`,
      [name, email, country, Date.now()],
    );
    res.redirect(303, '/x');
  });
  const server = await listen(app);
  return {
    ...server,
    rows: async () => Number((await pool.query('SELECT count(*) AS n FROM signatures')).rows[0].n),
    async close() {
      await server.close();
      await pool.end();
    },
  };
}

/** The floor: Express 5, a urlencoded body and one autocommit INSERT into a table shaped like `signatures`. */
async function startBare(file: string) {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE signatures (
    id INTEGER PRIMARY KEY, petition_id INTEGER NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    email_canonical TEXT NOT NULL, country_code TEXT NOT NULL, postcode TEXT, show_publicly INTEGER NOT NULL,
    updates_opt_in INTEGER NOT NULL, consent_version TEXT NOT NULL, consent_at INTEGER NOT NULL, ip_hash TEXT,
    locale TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  const insert = db.prepare(`INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode,
      show_publicly, updates_opt_in, consent_version, consent_at, ip_hash, locale, state, created_at)
    VALUES (1, @name, @email, lower(@email), @country, NULL, 1, 0, '2026-11-26', @now, NULL, 'en', 'pending', @now)`);
  const count = db.prepare('SELECT count(*) FROM signatures').pluck();

  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/sign', (req, res) => {
    const { name, email, country } = req.body as Record<string, string>;
    insert.run({ name, email, country, now: Date.now() });
    res.redirect(303, '/x');
  });
  const server = await listen(app);
  return {
    ...server,
    rows: async () => count.get() as number,
    async close() {
      await server.close();
      db.close();
    },
  };
}

interface Measured extends LoadResult {
  accepted: number;
  written: number;
}

/**
 * Warms up, then sends a fixed number of requests (~10 s at the warm-up rate) and waits for every
 * answer, so that rows written can be matched exactly against 303s: a timed run would cut requests
 * off mid-flight, after their row was written but before their answer was counted.
 */
async function measure(
  options: LoadOptions,
  rows: () => Promise<number>,
  beforeMeasuring?: () => Promise<void>,
): Promise<Measured> {
  const warm = await warmUp(options);
  const before = await settled(rows);
  await beforeMeasuring?.();
  const result = await load({ ...options, amount: Math.round(warm.rps * measureSeconds) });
  return { ...result, accepted: result.status['303'] ?? 0, written: (await rows()) - before };
}

/** The row count once it stops moving: requests cut off by the end of the warm-up still finish on the server. */
async function settled(rows: () => Promise<number>): Promise<number> {
  let last = await rows();
  for (;;) {
    await sleep(200);
    const now = await rows();
    if (now === last) return now;
    last = now;
  }
}

const signBody = 'name=Bench+Signer&email=bench{n}%40example.org&country=FR&showPublicly=on';

/** POSTs one form from `localAddress` and resolves with the status. */
function postFrom(localAddress: string, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dir = tempDir();
  const sink = await startSmtpSink();
  const closers: Array<() => Promise<void>> = [sink.close];
  const problems: string[] = [];
  try {
    // The baseline goes first: the app keeps sending its queued confirmation mails after its run,
    // which would otherwise eat into the baseline's CPU.
    const databases = onPostgres ? [await postgresDatabase(), await postgresDatabase()] : [];
    for (const database of databases) closers.push(database.drop);
    const bare = onPostgres
      ? await startBarePostgres(databases[0]!.url)
      : await startBare(path.join(dir.path, 'bare.db'));
    closers.unshift(bare.close);
    const bareResult = await measure(
      {
        url: `${bare.url}/sign`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: signBody,
        perAddress,
      },
      bare.rows,
    );

    // No ALLOWED_IP_RANGES: every signature goes through the rate limit, as in production.
    const logFile = path.join(dir.path, 'app.log');
    const appEnv: Record<string, string> = { LOG_LEVEL: 'info' };
    if (onPostgres) appEnv.DATABASE_URL = databases[1]!.url;
    const app = await startApp(dir.path, sink.url, appEnv, logFile);
    closers.unshift(app.close);
    const { store, config, logger } = app.services;
    const one = async <T>(query: ReturnType<typeof sql<T>>) => (await store.first(query))!;
    const signUrl = `${app.url}/petitions/${slug}/signatures`;
    // What a browser sends with the form from the petition page: no cookie, no token.
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
    const pending = async () =>
      Number((await one(sql<{ n: number }>`SELECT count(*) AS n FROM signatures WHERE state = 'pending'`)).n);
    let firstMeasured = 0;
    const appResult = await measure(
      { url: signUrl, method: 'POST', headers, body: signBody, perAddress },
      pending,
      async () => {
        firstMeasured =
          Number((await one(sql<{ id: number }>`SELECT coalesce(max(id), 0) AS id FROM signatures`)).id) + 1;
      },
    );
    const loadEnded = Date.now();
    const mail = await one(
      sql<{ sent: number; queued: number }>`SELECT sum(CASE WHEN state = 'sent' THEN 1 ELSE 0 END) AS sent,
         count(*) AS queued FROM outbox`,
    );

    // The confirmation-mail lag: how long after the load ends until the relay has accepted every
    // confirmation mail queued (a signer waits for that mail before their signature counts).
    const unsent = async () =>
      Number(
        (
          await one(
            sql<{ n: number }>`SELECT count(*) AS n FROM outbox
             WHERE kind = 'signature_confirmation' AND state IN ('queued', 'sending')`,
          )
        ).n,
      );
    while ((await unsent()) > 0 && Date.now() - loadEnded < 120_000) await sleep(100);
    const lastAccepted = Number(
      (
        await one(
          sql<{ at: number | null }>`SELECT max(sent_at) AS at FROM outbox WHERE kind = 'signature_confirmation'`,
        )
      ).at ?? loadEnded,
    );
    const stillUnsent = await unsent();
    const mailLagSeconds = Math.max(0, lastAccepted - loadEnded) / 1000;
    const measured = await one(
      sql<{ addresses: number; signatures: number; flagged: number }>`SELECT count(DISTINCT ip_hash) AS addresses,
         count(*) AS signatures, sum(CASE WHEN state <> 'pending' THEN 1 ELSE 0 END) AS flagged
       FROM signatures WHERE id >= ${firstMeasured}`,
    );
    const busiest = Number(
      (
        await one(
          sql<{ n: number }>`SELECT count(*) AS n FROM signatures WHERE id >= ${firstMeasured}
            GROUP BY ip_hash ORDER BY 1 DESC LIMIT 1`,
        )
      ).n,
    );

    // The limit is live: a sixth signature from one address within the minute is flagged.
    const probe = '127.0.0.2';
    for (let i = 0; i < 6; i++) await postFrom(probe, signUrl, headers, signBody.replace('{n}', `probe${i}`));
    const probeRows = (
      await store.all(
        sql<{ s: string }>`SELECT state || coalesce(':' || fraud_reason, '') AS s FROM signatures
          WHERE ip_hash = ${hashIp(config.secret, probe)} ORDER BY id`,
      )
    ).map((r) => r.s);

    await new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
    const logLines = fs.readFileSync(logFile, 'utf8').split('\n');
    const requestLines = logLines.filter((line) => line.includes('"msg":"request completed"')).length;
    const logMb = fs.statSync(logFile).size / 1024 / 1024;

    const durability = onPostgres
      ? `PostgreSQL (synchronous_commit=${(await one(sql<{ s: string }>`SELECT current_setting('synchronous_commit') AS s`)).s}), a pool of ${config.databasePoolMax}, rate windows in the database`
      : config.synchronous === 'FULL'
        ? 'synchronous=FULL (each commit answered once its WAL is fsynced, off the event loop) with group commit'
        : `synchronous=${config.synchronous} with group commit`;

    console.log(`POST /petitions/${slug}/signatures, 50 connections, ~${measureSeconds} s each after a 2 s warm-up,`);
    console.log(`${perAddress} signatures per source address in 127.0.0.0/8, one keep-alive connection each`);
    console.log(`app:  ${durability}, mail to a local SMTP sink, no exempt addresses,`);
    console.log(`      every request logged at info (${requestLines} request lines, ${logMb.toFixed(1)} MB of JSON)`);
    console.log(
      `      (${Number(mail.sent)} of the ${Number(mail.queued)} confirmation mails queued were sent by the end of its run)`,
    );
    console.log(
      onPostgres
        ? 'bare: Express 5 + urlencoded + one INSERT through a pg pool (its own transaction), no logging'
        : 'bare: Express 5 + urlencoded + one autocommit INSERT, WAL with synchronous=NORMAL, no logging',
    );
    console.log();
    const rowsMatch = (r: Measured) => r.written === r.accepted;
    const row = (name: string, r: Measured) => [
      name,
      r.responses,
      r.addresses ?? '',
      r.rps.toFixed(0),
      r.p99.toFixed(0),
      r.accepted,
      r.other,
      r.written,
      rowsMatch(r) ? 'ok' : 'MISMATCH',
    ];
    printTable([
      ['target', 'requests', 'addresses', 'req/s', 'p99 ms', '303', 'non-2xx/3xx', 'rows written', 'rows = 303'],
      row('bare', bareResult),
      row('app', appResult),
    ]);
    console.log();
    console.log(
      `the app saw ${measured.addresses} addresses for ${measured.signatures} signatures (at most ${busiest} from one), ` +
        `${measured.flagged ?? 0} flagged`,
    );
    console.log(`six signatures from ${probe} within the minute: ${probeRows.join(', ')}`);
    console.log(
      `confirmation-mail lag: ${mailLagSeconds.toFixed(1)} s after the load ended until the relay had accepted ` +
        `every confirmation mail${stillUnsent ? ` (${stillUnsent} still unsent after 120 s)` : ''}`,
    );

    if (!rowsMatch(bareResult))
      problems.push(`bare: ${bareResult.written} rows written for ${bareResult.accepted} 303s`);
    if (!rowsMatch(appResult)) problems.push(`app: ${appResult.written} pending rows for ${appResult.accepted} 303s`);
    if (appResult.other) problems.push(`app: ${appResult.other} answers were neither 2xx nor 3xx, or failed`);
    if (measured.addresses !== appResult.addresses) {
      problems.push(`the app saw ${measured.addresses} client addresses, the load came from ${appResult.addresses}`);
    }
    if (measured.flagged) problems.push(`${measured.flagged} signatures of the measured run were flagged`);
    const limited = probeRows.filter((r) => r === 'fraudulent:rate_limit').length;
    if (probeRows.length !== 6 || limited !== 1 || probeRows[5] !== 'fraudulent:rate_limit') {
      problems.push('the rate limit did not flag the sixth signature from one address');
    }
    if (requestLines < appResult.responses) {
      problems.push(`${requestLines} request lines logged for ${appResult.responses} requests measured`);
    }

    const ratio = appResult.rps / bareResult.rps;
    if (onPostgres) {
      console.log('on PostgreSQL the figures are for information: no target');
    } else {
      console.log(verdict('target ratio >= 0.8', ratio >= 0.8));
      console.log(verdict('target app p99 <= 50 ms', appResult.p99 <= 50));
      console.log(verdict('target confirmation-mail lag <= 10 s', !stillUnsent && mailLagSeconds <= 10));
    }
    for (const problem of problems) console.error(`FAILED: ${problem}`);
    if (problems.length) process.exitCode = 1;
    console.log(`ratio: ${ratio.toFixed(2)}`);
  } finally {
    for (const close of closers) await close();
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
