/**
 * npm run bench:deliver — 100,000 validated signatures across the 32 delegations, batched into
 * digests and sent through the outbox to a local SMTP server, against a bare pooled nodemailer loop
 * sending the same number of messages of the same size, in the same run. Last line:
 * `ratio: <app throughput / bare throughput>`.
 */
import path from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { createServices } from '../server/services';
import { addValidatedSignatures } from '../tests/helpers/factories';
import { printTable, startSmtpSink, tempDir, verdict } from './lib';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 100_000);

/** Peak resident memory while `work` runs, sampled, in MB. */
async function withPeakMemory<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number; seconds: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const start = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { result, peakMb: peak / 1024 / 1024, seconds };
}

async function main() {
  const dir = tempDir();
  const relay = await startSmtpSink();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SECRET: 'bench-secret-bench-secret-bench-secret',
    BASE_URL: 'http://localhost:3000',
    DATABASE_PATH: path.join(dir.path, 'bench.db'),
    DATA_DIR: dir.path,
    SMTP_URL: relay.url,
  });
  const services = createServices(config, createLogger('silent'));
  try {
    const { db } = services;
    const countries = db.prepare('SELECT country_code FROM targets WHERE is_default = 1').pluck().all() as string[];
    db.prepare(`UPDATE targets SET email = lower(country_code) || '@delegation.example' WHERE is_default = 1`).run();
    const petitions = db.prepare('SELECT slug FROM petitions ORDER BY id').pluck().all() as string[];
    const perPetition = Math.ceil(SIGNATURES / petitions.length);
    let made = 0;
    for (const slug of petitions) {
      const n = Math.min(perPetition, SIGNATURES - made);
      addValidatedSignatures(
        db,
        slug,
        Array.from({ length: n }, (_, i) => ({
          name: `Signer ${made + i} Lastname`,
          country: countries[(made + i) % countries.length]!,
          postcode: (made + i) % 3 ? null! : '1000 Brussels',
          email: `signer${made + i}@example.org`,
        })),
        Date.now() - 60_000,
      );
      made += n;
    }
    process.stderr.write(`seeded ${made} validated signatures for ${countries.length} delegations\n`);

    // The app: batch everything due, then drain the outbox through the pooled transport.
    const app = await withPeakMemory(async () => {
      const planned = services.delivery.plan();
      await services.sender.drain();
      return planned;
    });
    await services.sender.idle();
    const { messages: appMessages, bytes: appBytes } = await relay.stats();
    const sentBatches = db.prepare("SELECT count(*) FROM batches WHERE state = 'sent'").pluck().get() as number;
    const batched = db.prepare('SELECT count(*) FROM batch_signatures').pluck().get() as number;

    // The baseline: the same number of messages of the same average size, nothing else.
    const size = Math.round(appBytes / appMessages);
    const body = 'x'.repeat(Math.max(0, size - 600)).replace(/(.{76})/g, '$1\n');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.port,
      secure: false,
      pool: true,
      maxConnections: 5,
      maxMessages: Infinity,
    });
    relay.reset();
    const bare = await withPeakMemory(async () => {
      await Promise.all(
        Array.from({ length: appMessages }, (_, i) =>
          transport.sendMail({
            from: config.mailFrom,
            to: `d${i % 32}@delegation.example`,
            subject: `Petition digest ${i}`,
            text: body,
          }),
        ),
      );
    });
    transport.close();
    const bareMessages = (await relay.stats()).messages;

    const appRate = appMessages / app.seconds;
    const bareRate = appMessages / bare.seconds;
    printTable([
      ['', 'messages', 'seconds', 'messages/s', 'peak RSS MB'],
      ['app (batch + outbox)', appMessages, app.seconds.toFixed(2), appRate.toFixed(1), app.peakMb.toFixed(0)],
      ['bare nodemailer', bareMessages, bare.seconds.toFixed(2), bareRate.toFixed(1), bare.peakMb.toFixed(0)],
    ]);
    console.log(`digests planned ${app.result.batches}, sent ${sentBatches}; signatures batched ${batched} of ${made}`);
    console.log(`average message ${size} bytes; the relay runs in its own process; synchronous=${config.synchronous}`);
    if (sentBatches !== app.result.batches || appMessages !== app.result.batches || bareMessages !== appMessages) {
      console.error('every digest must be sent exactly once, and the baseline must send as many');
      process.exitCode = 1;
    }
    const ratio = appRate / bareRate;
    console.log(verdict('target ratio >= 0.8', ratio >= 0.8));
    console.log(`ratio: ${ratio.toFixed(2)}`);
  } finally {
    await services.close();
    await relay.close();
    dir.remove();
  }
}

void main();
