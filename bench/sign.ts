/**
 * npm run bench:sign — the real sign route (CSRF, validation, fraud checks, group commit with
 * synchronous=FULL, confirmation mail through the outbox to a local SMTP sink) against a bare Express
 * route doing one INSERT, both under the same load in the same run. Checks that every 303 wrote one
 * row. Last line: `ratio: <app req/s / bare req/s>`.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import express from 'express';
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
const synchronousNames = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

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
    rows: () => count.get() as number,
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
async function measure(options: LoadOptions, rows: () => number): Promise<Measured> {
  const warm = await warmUp(options);
  const before = await settled(rows);
  const result = await load({ ...options, amount: Math.round(warm.rps * measureSeconds) });
  return { ...result, accepted: result.status['303'] ?? 0, written: rows() - before };
}

/** The row count once it stops moving: requests cut off by the end of the warm-up still finish on the server. */
async function settled(rows: () => number): Promise<number> {
  let last = rows();
  for (;;) {
    await sleep(200);
    const now = rows();
    if (now === last) return now;
    last = now;
  }
}

const signBody = (csrf: string) =>
  `_csrf=${encodeURIComponent(csrf)}&name=Bench+Signer&email=bench{n}%40example.org&country=FR&showPublicly=on`;

async function main(): Promise<void> {
  const dir = tempDir();
  const sink = await startSmtpSink();
  const closers: Array<() => Promise<void>> = [sink.close];
  try {
    // The baseline goes first: the app keeps sending its queued confirmation mails after its run,
    // which would otherwise eat into the baseline's CPU.
    const bare = await startBare(path.join(dir.path, 'bare.db'));
    closers.unshift(bare.close);
    const bareResult = await measure(
      {
        url: `${bare.url}/sign`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: signBody('x'),
      },
      bare.rows,
    );

    // Loopback is an allowed range, so 50 connections from one IP are not flagged as a flood; the
    // rate-limit and block checks still run for every signature.
    const app = await startApp(dir.path, sink.url, { ALLOWED_IP_RANGES: '127.0.0.1,::1,::ffff:127.0.0.1' });
    closers.unshift(app.close);
    const page = await fetch(`${app.url}/petitions/${slug}`);
    const cookie = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('undersigned.csrf='));
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    if (!cookie || !csrf) throw new Error('no CSRF cookie or token on the petition page');
    const pending = app.services.db.prepare("SELECT count(*) FROM signatures WHERE state = 'pending'").pluck();
    const appResult = await measure(
      {
        url: `${app.url}/petitions/${slug}/signatures`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: signBody(csrf),
      },
      () => pending.get() as number,
    );
    const synchronous = synchronousNames[app.services.db.pragma('synchronous', { simple: true }) as number];
    const outbox = app.services.db.prepare("SELECT sum(state = 'sent') AS sent, count(*) AS queued FROM outbox");
    const mail = outbox.get() as { sent: number; queued: number };

    console.log(`POST /petitions/${slug}/signatures, 50 connections, ~${measureSeconds} s each after a 2 s warm-up`);
    console.log(`app:  synchronous=${synchronous} with group commit, mail to a local SMTP sink`);
    console.log(`      (${mail.sent} of the ${mail.queued} confirmation mails queued were sent by the end of its run)`);
    console.log('bare: Express 5 + urlencoded + one autocommit INSERT, WAL with synchronous=NORMAL');
    console.log();
    const rowsMatch = (r: Measured) => r.written === r.accepted;
    const row = (name: string, r: Measured) => [
      name,
      r.responses,
      r.rps.toFixed(0),
      r.p99.toFixed(0),
      r.accepted,
      r.other,
      r.written,
      rowsMatch(r) ? 'ok' : 'MISMATCH',
    ];
    printTable([
      ['target', 'requests', 'req/s', 'p99 ms', '303', 'non-2xx/3xx', 'rows written', 'rows = 303'],
      row('bare', bareResult),
      row('app', appResult),
    ]);
    console.log();
    const ratio = appResult.rps / bareResult.rps;
    console.log(verdict('target ratio >= 0.8', ratio >= 0.8));
    console.log(verdict('target app p99 <= 50 ms', appResult.p99 <= 50));
    if (!rowsMatch(bareResult) || !rowsMatch(appResult)) process.exitCode = 1;
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
