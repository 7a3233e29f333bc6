/**
 * npm run bench:letters — N letters confirmed and delivered through the outbox to a local SMTP server,
 * against a bare pooled nodemailer loop (pool, 5 connections, maxMessages Infinity) sending as many
 * mails of the same size to the same kind of server, in the same run. The app's time runs from the
 * first Confirm until the server has received every letter.
 *
 * The machine is shared, so its load drifts: the run makes BENCH_ROUNDS (3) rounds of BENCH_LETTERS
 * (2000) letters, alternating which side goes first, and compares medians. It also prints mails per
 * CPU-second of this process (the SMTP server runs in it too), which drifts less. The last line is
 * `ratio: <app/bare>` of the median throughputs (mails/s).
 *
 * The run then checks what it leaves behind, and exits non-zero if any of it does not hold: every
 * letter `sent`, nothing in the outbox left queued, in flight, failed or dead, and every mail the app
 * queued received exactly once (by its Message-ID).
 *
 * The app runs as configured for production: SQLite in WAL with synchronous=FULL, the outbox sender's
 * batches of 50, a pool of 5 SMTP connections, the near-duplicate check on every confirmation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { createMailRenderer } from '../server/mail/mailRenderer';
import { outboxRepository } from '../server/mail/outboxRepository';
import { createServices } from '../server/services';
import { exactlyOnce, MessageIds } from './messageIds';

const N = Number(process.env.BENCH_LETTERS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Sink {
  url: string;
  port: number;
  received: number;
  bytes: number;
  /** Each Message-ID received, with how many times. */
  ids: MessageIds;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Accepts and discards: counts messages and bytes, parses nothing. */
async function startSink(): Promise<Sink> {
  let waiter: { count: number; resolve: () => void } | undefined;
  const sink = {
    received: 0,
    bytes: 0,
    ids: new MessageIds(),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      sink.ids.watch(stream);
      stream.on('data', (chunk: Buffer) => (sink.bytes += chunk.length));
      stream.on('end', () => {
        sink.received++;
        if (waiter && sink.received >= waiter.count) waiter.resolve();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return Object.assign(sink, {
    url: `smtp://127.0.0.1:${port}`,
    port,
    waitFor(count: number, timeoutMs = 60_000) {
      if (sink.received >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${sink.received} of ${count} mails arrived`)), timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          },
        };
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

const vocabulary = (
  'school hospital tax child mine treaty war peace law town river winter nurse teacher bread ' +
  'street family future vote soldier farmer bridge border parliament budget rights freedom ' +
  'newspaper neighbour grandmother clinic library harvest factory journalist protest village'
).split(' ');

/** A sentence of the supporter's own: random words, so no two letters are near-duplicates. */
function ownWords(i: number): string {
  let seed = i * 2654435761;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % vocabulary.length;
  const words = Array.from({ length: 18 }, () => vocabulary[next()]!);
  return `Letter ${i}: ${words.join(' ')}.`;
}

/** A pooled nodemailer transport, as bare as it gets: pool, 5 connections, no limit on messages. */
function bareTransport(sink: Sink) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    pool: true,
    maxConnections: 5,
    maxMessages: Infinity,
  });
}

/** CPU seconds (user + system) this process spent since `from`: the sink's share included, on both sides. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1e6;
}

async function bare(sink: Sink, transport: Transporter, mail: SendMailOptions, count: number) {
  const start = sink.received;
  const bytesBefore = sink.bytes;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, () => transport.sendMail(mail)));
  await sink.waitFor(start + count);
  return {
    rate: count / ((performance.now() - t0) / 1000),
    perCpuSecond: count / cpuSince(cpu),
    bytes: (sink.bytes - bytesBefore) / count,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const sink = await startSink();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_PATH: path.join(dir, 'bench.db'),
    DATA_DIR: dir,
    SECRET: 'a-benchmark-secret-that-is-long-enough-0',
    SMTP_URL: sink.url,
    LETTER_LIMIT_PER_MINUTE: String(N * 10),
    LETTER_LIMIT_PER_5_MINUTES: String(N * 10),
  });
  const services = await createServices(config, createLogger('silent'));
  services.sender.start();
  const { letters, db } = services;
  const demand = (await letters.demand('progressive-taxation', 'en'))!;
  const transport = bareTransport(sink);
  const mark = () => process.env.BENCH_MARKS && console.log(`mark ${process.hrtime.bigint() / 1000n}`);

  /** N letters to Italy (the seeded delegation with an address), pending. Their confirmation mails go out untimed. */
  async function pendingLetters(round: number): Promise<string[]> {
    const first = round * N;
    for (let i = 0; i < N; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, N - i) }, (_, k) => {
          const n = first + i + k;
          return letters.submit(
            demand,
            {
              country: 'IT',
              target: '',
              name: `Supporter ${n}`,
              email: `supporter${n}@example.org`,
              town: 'Bologna',
              ownWords: ownWords(n),
              lang: 'en',
              copy: false,
              noFollowUp: false,
              delivery: 'post',
            },
            undefined,
            `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`,
            'en',
          );
        }),
      );
    }
    while ((db.prepare("SELECT count(*) FROM outbox WHERE state <> 'sent'").pluck().get() as number) > 0) {
      await services.sender.idle();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const rows = db.prepare("SELECT id, created_at AS createdAt FROM letters WHERE state = 'pending'").all() as Array<{
      id: number;
      createdAt: number;
    }>;
    if (rows.length !== N) throw new Error(`expected ${N} pending letters, found ${rows.length}`);
    return rows.map((r) => letters.confirmToken(r));
  }

  /** The app: from the first Confirm until the SMTP server has every letter. */
  async function app(tokens: string[]) {
    const before = sink.received;
    const bytesBefore = sink.bytes;
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    mark();
    await Promise.all(tokens.map((token) => letters.confirm(token)));
    const confirmedMs = performance.now() - t0;
    mark();
    await sink.waitFor(before + N);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuSince(cpu);
    mark();
    await services.sender.idle();
    return {
      rate: N / seconds,
      perCpuSecond: N / cpuSeconds,
      confirmedMs,
      seconds,
      bytes: (sink.bytes - bytesBefore) / N,
    };
  }

  /**
   * The same letter, rendered as the app renders it, for the bare loop: its text loaded as the
   * sender loads it when it sends (the outbox row only names the letter).
   */
  async function sampleMail(): Promise<SendMailOptions> {
    const id = db.prepare("SELECT id FROM outbox WHERE kind = 'letter' ORDER BY id LIMIT 1").pluck().get() as number;
    const queued = (await outboxRepository(services.store).find(id))!;
    const row = { ...queued, params: { ...queued.params, ...(await letters.outboxHooks.letter.params(queued)) } };
    const rendered = await createMailRenderer(services.views, services.i18n, config.mailFrom, config.baseUrl)(row);
    const { from, to, replyTo, subject, html, text } = rendered;
    return { from, to, replyTo, subject, html, text };
  }

  /**
   * What the run must leave behind, printed and checked: every letter sent, the outbox drained
   * (nothing queued, in flight, failed or dead), and every mail the app queued received exactly
   * once, beside the bare loop's. Returns what does not hold.
   */
  function finalStates(bareSent: number): string[] {
    const letterStates = db.prepare('SELECT state, count(*) AS n FROM letters GROUP BY state').all() as Array<{
      state: string;
      n: number;
    }>;
    const outboxStates = db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state').all() as Array<{
      state: string;
      n: number;
    }>;
    const messageIds = db.prepare('SELECT message_id FROM outbox').pluck().all() as string[];
    const list = (rows: Array<{ state: string; n: number }>) => rows.map((r) => `${r.state} ${r.n}`).join(', ');
    console.log(
      `letters: ${N} per round, ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}; states after the run: ${list(letterStates)}`,
    );
    console.log(`outbox after the run: ${list(outboxStates)}`);
    console.log(
      `mails received: ${sink.received} (${messageIds.length} queued by the app, ${bareSent} sent by the bare loop)`,
    );

    const problems: string[] = [];
    const total = letterStates.reduce((sum, r) => sum + r.n, 0);
    const sent = letterStates.find((r) => r.state === 'sent')?.n ?? 0;
    if (total !== N * ROUNDS || sent !== total) problems.push(`${sent} of ${N * ROUNDS} letters are sent`);
    const unsent = outboxStates.filter((r) => r.state !== 'sent');
    if (unsent.length) problems.push(`the outbox still holds mail that is not sent: ${list(unsent)}`);
    problems.push(...exactlyOnce((id) => sink.ids.count(id), messageIds, 'mails queued by the app'));
    if (sink.received !== messageIds.length + bareSent) {
      problems.push(`${sink.received} mails were received, ${messageIds.length + bareSent} were sent`);
    }
    if (sink.ids.missing) problems.push(`${sink.ids.missing} mails arrived without a Message-ID`);
    return problems;
  }

  try {
    // Rounds alternate which side goes first, and medians are compared: the machine is shared, and
    // its load drifts during a run.
    const apps: number[] = [];
    const bares: number[] = [];
    const appCpu: number[] = [];
    const bareCpu: number[] = [];
    let mail: SendMailOptions | undefined;
    let bareSent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await pendingLetters(round);
      const appFirst = round % 2 === 0;
      let line = `round ${round + 1}:`;
      for (const side of appFirst ? ['app', 'bare'] : ['bare', 'app']) {
        if (side === 'app') {
          const result = await app(tokens);
          apps.push(result.rate);
          appCpu.push(result.perCpuSecond);
          line += ` app ${result.rate.toFixed(0)} mails/s (confirmed in ${result.confirmedMs.toFixed(0)} ms, all delivered in ${(result.seconds * 1000).toFixed(0)} ms, ${Math.round(result.bytes)} bytes each);`;
        } else {
          if (!mail) {
            mail = await sampleMail();
            await bare(sink, transport, mail, Math.min(200, N)); // warm-up, not counted
            bareSent += Math.min(200, N);
          }
          const result = await bare(sink, transport, mail, N);
          bareSent += N;
          bares.push(result.rate);
          bareCpu.push(result.perCpuSecond);
          line += ` bare ${result.rate.toFixed(0)} mails/s (${Math.round(result.bytes)} bytes each);`;
        }
      }
      console.log(line);
    }
    await services.sender.idle();
    const problems = finalStates(bareSent);
    console.log(`app (median): ${median(apps).toFixed(0)} mails/s`);
    console.log(`bare nodemailer pool (median): ${median(bares).toFixed(0)} mails/s`);
    // Mails per CPU-second of this process: less sensitive to what else runs on the machine.
    console.log(
      `per CPU-second (median): app ${median(appCpu).toFixed(0)}, bare ${median(bareCpu).toFixed(0)}, ` +
        `ratio ${(median(appCpu) / median(bareCpu)).toFixed(2)}`,
    );
    for (const problem of problems) console.error(`FAILED: ${problem}`);
    if (problems.length) process.exitCode = 1;
    console.log(`ratio: ${(median(apps) / median(bares)).toFixed(2)}`);
  } finally {
    transport.close();
    await services.close();
    await sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
