/**
 * npm run bench:deliver — validated signatures across the 32 delegations, batched into digests and
 * sent through the outbox to a local SMTP server (in its own process), against a bare loop doing the
 * work the exactly-once guarantee needs and nothing more, on the same database in the same run:
 *
 *   - in one IMMEDIATE transaction, find the (target, signature) pairs not yet batched and write
 *     their memberships (a table keyed by target × signature, as the app's);
 *   - for each batch, read its signers, build its CSV and SHA-256 (the app's own digestCsv: the bytes
 *     a delegation receives are the product, not the overhead);
 *   - send each through a pooled nodemailer transport (5 connections, as the app's), the CSV
 *     attached, the text and HTML of one digest the app rendered, so messages are the same size.
 *
 * The bare loop neither records that a digest was sent nor survives a crash; the app does both
 * (outbox rows, leases, batch states). The machine may be shared, so the run makes BENCH_ROUNDS (3)
 * rounds of BENCH_SIGNATURES (100,000) new signatures each, alternating which side goes first, and
 * compares medians.
 *
 * Then it checks, and exits non-zero unless it holds: every seeded signature is in exactly one sent
 * batch per target (and in the bare loop's memberships once per target), and every digest of either
 * side was received exactly once, by Message-ID. Last line: `ratio: <app/bare>` of the medians
 * (digests/s).
 */
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { displayCountry } from '../server/campaign/countries';
import { loadConfig } from '../server/config';
import type { Database } from '../server/db/database';
import { digestCsv } from '../server/delivery/digest';
import { createLogger } from '../server/logger';
import { outboxRepository } from '../server/mail/outboxRepository';
import { createServices } from '../server/services';
import { consentVersion } from '../server/signatures/consent';
import { printTable, startSmtpSink, tempDir, verdict, type SmtpSink } from './lib';
import { exactlyOnce } from './messageIds';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Validated signatures and their counters, written straight to the SQLite file in one transaction
 * (the bench runs on SQLite, beside a bare loop on the same file): faster to seed by the hundred
 * thousand than through the store.
 */
function addValidatedSignatures(
  db: Database,
  petitionSlug: string,
  signers: Array<{ name: string; country: string; postcode?: string; email?: string; consentVersion?: string }>,
  validatedAt = Date.now(),
): number[] {
  const petitionId = db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck().get(petitionSlug) as number;
  const insert = db.prepare(
    `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
       updates_opt_in, consent_version, consent_at, locale, state, created_at, validated_at)
     VALUES (@petitionId, @name, @email, @email, @country, @postcode, 0, 0, @consentVersion, @at, 'en', 'validated', @at, @at)`,
  );
  const count = db.prepare('UPDATE petition_counts SET validated = validated + 1 WHERE petition_id = ?');
  const byCountry = db.prepare(
    `INSERT INTO petition_country_counts (petition_id, country_code, validated) VALUES (?, ?, 1)
     ON CONFLICT DO UPDATE SET validated = validated + 1`,
  );
  return db.transaction(() =>
    signers.map((s, i) => {
      const email = s.email ?? `${s.name.toLowerCase().replace(/\W+/g, '.')}.${i}@example.org`;
      const id = Number(
        insert.run({
          petitionId,
          name: s.name,
          email,
          country: s.country,
          postcode: s.postcode ?? null,
          consentVersion: s.consentVersion ?? consentVersion,
          at: validatedAt,
        }).lastInsertRowid,
      );
      count.run(petitionId);
      byCountry.run(petitionId, s.country);
      return id;
    }),
  )();
}

/** Every (target, signature) pair a validated signature owes a digest: its delegation, and the petition's targets. */
const owedPairs = `
  SELECT s.petition_id, t.id AS target_id, s.id AS signature_id
  FROM signatures s JOIN targets t ON t.country_code = s.country_code AND t.is_default = 1
  WHERE s.state = 'validated'
  UNION
  SELECT s.petition_id, pt.target_id, s.id
  FROM signatures s JOIN petition_targets pt ON pt.petition_id = s.petition_id
  WHERE s.state = 'validated'`;

interface Timed {
  messages: number;
  seconds: number;
  /** CPU seconds of this process (the relay runs in its own): less sensitive to a busy machine. */
  cpuSeconds: number;
  peakMb: number;
  bytes: number;
}

/** Peak resident memory while `work` runs, sampled, in MB, and its duration. */
async function timed<T>(work: () => Promise<T>) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { user, system } = process.cpuUsage(cpu);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { result, peakMb: peak / 1024 / 1024, seconds, cpuSeconds: (user + system) / 1e6 };
}

/**
 * The bare loop's own memberships, shaped like batch_signatures (its primary key is the same
 * guarantee), and the loop itself. Its Message-IDs are its own, so arrivals can be checked.
 */
function bareDelivery(db: Database, transport: Transporter, from: string, maxPerDigest: number) {
  db.exec(`CREATE TABLE bench_members (
    target_id INTEGER NOT NULL, signature_id INTEGER NOT NULL, batch_id INTEGER NOT NULL,
    PRIMARY KEY (target_id, signature_id)) WITHOUT ROWID;
  CREATE INDEX bench_members_by_batch ON bench_members (batch_id, signature_id);`);
  const unbatched = db
    .prepare(
      `SELECT petition_id, target_id, signature_id FROM (${owedPairs}) p
       WHERE NOT EXISTS (SELECT 1 FROM bench_members m WHERE m.target_id = p.target_id AND m.signature_id = p.signature_id)
       ORDER BY petition_id, target_id, signature_id`,
    )
    .raw();
  const lastBatch = db.prepare('SELECT coalesce(max(batch_id), 0) FROM bench_members').pluck();
  const insert = db.prepare('INSERT INTO bench_members (target_id, signature_id, batch_id) VALUES (?, ?, ?)');
  const signers = db
    .prepare(
      `SELECT s.name, s.postcode, s.country_code, s.validated_at, s.consent_version
       FROM bench_members m JOIN signatures s ON s.id = m.signature_id
       WHERE m.batch_id = ? ORDER BY m.signature_id`,
    )
    .raw();
  const emails = new Map(db.prepare('SELECT id, email FROM targets').raw().all() as Array<[number, string]>);

  const batch = db.transaction(() => {
    const batches: Array<{ id: number; targetId: number }> = [];
    let id = lastBatch.get() as number;
    let key = '';
    let size = 0;
    for (const [petitionId, targetId, signatureId] of unbatched.all() as number[][]) {
      if (`${petitionId}:${targetId}` !== key || size === maxPerDigest) {
        key = `${petitionId}:${targetId}`;
        size = 0;
        batches.push({ id: ++id, targetId: targetId! });
      }
      insert.run(targetId, signatureId, id);
      size++;
    }
    return batches;
  });

  /** Batches what is owed, then builds and sends every digest; resolves once the relay accepted them all. */
  return async (mail: { subject: string; text: string; html: string }) => {
    const sends: Array<Promise<unknown>> = [];
    for (const { id, targetId } of batch.immediate()) {
      const rows = (signers.all(id) as Array<[string, string | null, string, number, string]>).map(
        ([name, postcode, country, validatedAt, consentVersion]) => ({
          name,
          postcode,
          country,
          validatedAt,
          consentVersion,
        }),
      );
      const { csv, sha256 } = digestCsv(rows, (code) => displayCountry(code, 'en'));
      const message: SendMailOptions = {
        from,
        to: emails.get(targetId),
        subject: mail.subject,
        text: `${mail.text}\nSHA-256: ${sha256}\n`,
        html: mail.html,
        messageId: `<bare-${id}@bench.localhost>`,
        attachments: [
          { filename: `bare-${id}.csv`, content: csv, contentType: 'text/csv', contentTransferEncoding: 'base64' },
        ],
      };
      sends.push(transport.sendMail(message));
    }
    await Promise.all(sends);
    return sends.length;
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const dir = tempDir();
  const relay: SmtpSink = await startSmtpSink();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SECRET: 'bench-secret-bench-secret-bench-secret',
    BASE_URL: 'http://localhost:3000',
    DATABASE_PATH: path.join(dir.path, 'bench.db'),
    DATA_DIR: dir.path,
    SMTP_URL: relay.url,
  });
  const services = await createServices(config, createLogger('silent'));
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: relay.port,
    secure: false,
    pool: true,
    maxConnections: 5,
    maxMessages: Infinity,
  });
  try {
    const { db } = services;
    const countries = db.prepare('SELECT country_code FROM targets WHERE is_default = 1').pluck().all() as string[];
    db.prepare(`UPDATE targets SET email = lower(country_code) || '@delegation.example' WHERE is_default = 1`).run();
    const petitions = db.prepare('SELECT slug FROM petitions ORDER BY id').pluck().all() as string[];
    let seeded = 0;
    /** `count` new validated signatures, spread over the petitions and the delegations' countries. */
    const seed = (count: number) => {
      const perPetition = Math.ceil(count / petitions.length);
      for (let made = 0, p = 0; made < count; p++) {
        const n = Math.min(perPetition, count - made);
        const first = seeded;
        addValidatedSignatures(
          db,
          petitions[p]!,
          Array.from({ length: n }, (_, i) => ({
            name: `Signer ${first + i} Lastname`,
            country: countries[(first + i) % countries.length]!,
            postcode: (first + i) % 3 ? undefined : '1000 Brussels',
            email: `signer${first + i}@example.org`,
          })),
          // Validated two days ago: due by age whatever their number (DIGEST_HOURS is 24).
          Date.now() - 2 * 24 * 60 * 60 * 1000,
        );
        made += n;
        seeded += n;
      }
    };

    const bare = bareDelivery(db, transport, config.mailFrom, config.delivery.maxPerDigest);
    /** The app: batch everything due, then drain the outbox through its pooled transport. */
    const app = async () => {
      const planned = await services.delivery.plan();
      await services.sender.drain();
      return planned.batches;
    };
    const run = async (side: () => Promise<number>): Promise<Timed> => {
      const before = await relay.stats();
      const { result, seconds, cpuSeconds, peakMb } = await timed(side);
      const after = await relay.stats();
      return { messages: result, seconds, cpuSeconds, peakMb, bytes: (after.bytes - before.bytes) / (result || 1) };
    };

    // Warm-up, not counted: JIT and pools for both sides, and the text and HTML of a real digest
    // for the bare loop's messages.
    seed(Math.min(SIGNATURES, 5_000));
    await app();
    const outboxId = db.prepare("SELECT id FROM outbox WHERE kind = 'digest' ORDER BY id LIMIT 1").pluck().get();
    const sample = await services.delivery.renderDigest(
      (await outboxRepository(services.store).find(outboxId as number))!,
    );
    await bare(sample);

    const rows: Array<Array<string | number>> = [
      ['round', 'side', 'digests', 'seconds', 'digests/s', 'per CPU-second', 'bytes each', 'peak RSS MB'],
    ];
    const apps: number[] = [];
    const bares: number[] = [];
    const appCpu: number[] = [];
    const bareCpu: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      seed(SIGNATURES);
      for (const side of round % 2 ? ['app', 'bare'] : ['bare', 'app']) {
        const r = await run(side === 'app' ? app : () => bare(sample));
        (side === 'app' ? apps : bares).push(r.messages / r.seconds);
        (side === 'app' ? appCpu : bareCpu).push(r.messages / r.cpuSeconds);
        rows.push([
          round,
          side === 'app' ? 'app (batch + outbox)' : 'bare loop',
          r.messages,
          r.seconds.toFixed(2),
          (r.messages / r.seconds).toFixed(1),
          (r.messages / r.cpuSeconds).toFixed(1),
          Math.round(r.bytes),
          r.peakMb.toFixed(0),
        ]);
      }
    }
    printTable(rows);

    const problems = await check(db, relay, seeded);
    console.log(
      `${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of ${SIGNATURES} signatures to ${countries.length} delegations ` +
        `over ${petitions.length} petitions; the relay runs in its own process; synchronous=${config.synchronous}`,
    );
    console.log(`app (median): ${median(apps).toFixed(1)} digests/s; bare loop (median): ${median(bares).toFixed(1)}`);
    console.log(
      `per CPU-second (median): app ${median(appCpu).toFixed(1)}, bare ${median(bareCpu).toFixed(1)}, ` +
        `ratio ${(median(appCpu) / median(bareCpu)).toFixed(2)}`,
    );
    for (const problem of problems) console.error(`FAILED: ${problem}`);
    if (problems.length) process.exitCode = 1;
    const ratio = median(apps) / median(bares);
    console.log(verdict('target ratio >= 0.8', ratio >= 0.8));
    console.log(`ratio: ${ratio.toFixed(2)}`);
  } finally {
    transport.close();
    await services.close();
    await relay.close();
    dir.remove();
  }
}

/**
 * Batched equals seeded, on both sides: each pair owed is in exactly one batch (the app's sent),
 * nothing else is, and every digest arrived exactly once. Prints the counts; returns what fails.
 */
async function check(db: Database, relay: SmtpSink, seeded: number): Promise<string[]> {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const owed = count(`SELECT count(*) FROM (${owedPairs})`);
  const validated = count("SELECT count(*) FROM signatures WHERE state = 'validated'");
  const appBatched = count(`SELECT count(*) FROM (${owedPairs}) p
    JOIN batch_signatures m ON m.target_id = p.target_id AND m.signature_id = p.signature_id
    JOIN batches b ON b.id = m.batch_id AND b.state = 'sent'`);
  const appMembers = count('SELECT count(*) FROM batch_signatures');
  const bareBatched = count(`SELECT count(*) FROM (${owedPairs}) p
    JOIN bench_members m ON m.target_id = p.target_id AND m.signature_id = p.signature_id`);
  const bareMembers = count('SELECT count(*) FROM bench_members');
  const batches = db.prepare('SELECT state, count(*) AS n FROM batches GROUP BY state').all() as Array<{
    state: string;
    n: number;
  }>;
  const appIds = db.prepare('SELECT message_id FROM batches').pluck().all() as string[];
  const bareIds = (db.prepare('SELECT DISTINCT batch_id FROM bench_members').pluck().all() as number[]).map(
    (id) => `<bare-${id}@bench.localhost>`,
  );
  const received = await relay.messageIds();
  const receivedTotal = [...received.all.values()].reduce((sum, n) => sum + n, 0) + received.missing;

  console.log(
    `seeded ${seeded} validated signatures (${validated} in the database), owing ${owed} (target, signature) pairs`,
  );
  console.log(
    `app: ${appBatched} pairs in sent batches, ${appMembers} memberships in all; batches ${batches
      .map((b) => `${b.state} ${b.n}`)
      .join(', ')}`,
  );
  console.log(`bare: ${bareBatched} pairs batched, ${bareMembers} memberships in all`);
  console.log(`relay: ${receivedTotal} messages received (${appIds.length} app digests, ${bareIds.length} bare)`);

  const problems: string[] = [];
  if (validated !== seeded) problems.push(`${validated} validated signatures in the database, ${seeded} seeded`);
  if (appBatched !== owed || appMembers !== owed) {
    problems.push(`the app batched ${appMembers} pairs, ${appBatched} of them sent, of the ${owed} owed`);
  }
  if (batches.some((b) => b.state !== 'sent')) problems.push('some of the app’s batches are not sent');
  if (bareBatched !== owed || bareMembers !== owed) problems.push(`the bare loop batched ${bareMembers} of ${owed}`);
  problems.push(...exactlyOnce(received.count, appIds, 'app digests'));
  problems.push(...exactlyOnce(received.count, bareIds, 'bare digests'));
  if (receivedTotal !== appIds.length + bareIds.length) {
    problems.push(`the relay received ${receivedTotal} messages, ${appIds.length + bareIds.length} were sent`);
  }
  return problems;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
