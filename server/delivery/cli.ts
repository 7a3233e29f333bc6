/**
 * npm run deliver [-- --now | --status | --resume | --packs DIR]
 *
 * One delivery pass for cron or a separate worker, with the server's configuration (DATABASE_PATH,
 * SMTP_URL, MAIL_FROM, BASE_URL): batch the signatures that are due into digests, then send every
 * mail that is due. Progress goes to stderr. Exit codes: 0 all sent; 1 something failed for good or
 * delivery is paused; 75 only temporary failures (they are retried by the next pass).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { commandLineUser } from '../admin/auditLog';
import { ConfigError, loadConfig } from '../config';
import { countOf, plural } from '../i18n/plural';
import { createServices, type Services } from '../services';
import type { BatchStatus } from './deliveryRepository';
import type { PlanResult } from './deliveryService';

const usage = `Usage: npm run deliver [-- --now | --status | --resume | --packs DIR]
  (no option)  batch the signatures that are due (N new, or T hours old) and send all due mail
  --now        batch every waiting signature regardless of N and T, then send
  --status     print the batches (digests and hand-in packs): target, petition, channel, signatures,
               letters, state, attempts, last error, the day a pack was handed in
  --resume     lift a pause left by an authentication failure at the relay
  --packs DIR  make the packs that are due (with --now: everything waiting), then write every pack
               due to be handed in into DIR as PDF and CSV, for printing; sends no mail`;

function table(rows: BatchStatus[]): string {
  const head = [
    'batch',
    'target',
    'country',
    'petition',
    'channel',
    'signatures',
    'letters',
    'state',
    'attempts',
    'last error',
    'handed in',
  ];
  const body = rows.map((r) => [
    String(r.id),
    r.target.length > 40 ? `${r.target.slice(0, 39)}…` : r.target,
    r.country,
    r.petition,
    r.channel,
    String(r.signatures),
    String(r.letters),
    r.channel === 'post' && r.state === 'queued' ? 'due' : r.state,
    String(r.attempts),
    (r.lastError ?? '').slice(0, 60),
    r.handedInAt === null ? '' : new Date(r.handedInAt).toISOString().slice(0, 10),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function packsLine(planned: PlanResult): string {
  return (
    `made ${countOf(planned.packs, 'hand-in pack')} due ` +
    `(${countOf(planned.packSignatures, 'signature')}, ${countOf(planned.packLetters, 'letter')})`
  );
}

/** Plans what is due, then writes every pack due to be handed in into `dir`: PDF and CSV, one line each. */
async function writePacks(services: Services, dir: string, force: boolean, say: (m: string) => void) {
  const planned = await services.delivery.plan(force);
  say(packsLine(planned));
  fs.mkdirSync(dir, { recursive: true });
  const due = (await services.packs.list()).filter((p) => p.state === 'queued');
  const pdf = await services.packs.pdfAvailable();
  if (!pdf) say('the PDF renderer is not part of this build: writing the CSVs only');
  const write = async (file: string, into: (out: fs.WriteStream) => Promise<unknown>) => {
    // The packs hold names: readable by their owner only, and never written through a link someone
    // else left in the folder under the name a pack will take.
    const fd = fs.openSync(
      file,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW,
      0o600,
    );
    fs.fchmodSync(fd, 0o600);
    const out = fs.createWriteStream(file, { fd });
    const closed = new Promise<void>((resolve, reject) => out.on('close', resolve).on('error', reject));
    await into(out);
    out.end();
    await closed;
    process.stdout.write(`${file}\n`);
  };
  for (const pack of due) {
    await services.admin.audit.record({
      organiserId: null,
      commandLine: commandLineUser(),
      action: 'pack.download',
      subject: `pack ${pack.id}`,
      details: { format: pdf ? 'pdf+csv' : 'csv', target: pack.target, petition: pack.petition },
    });
    if (pdf)
      await write(path.join(dir, services.packs.filename(pack, 'pdf')), (out) => services.packs.writePdf(pack.id, out));
    await write(path.join(dir, services.packs.filename(pack, 'csv')), (out) => services.packs.writeCsv(pack.id, out));
  }
  say(`wrote ${countOf(due.length, 'pack')} into ${dir}`);
  return pdf ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const packsAt = argv.indexOf('--packs');
  const packsDir = packsAt >= 0 ? argv[packsAt + 1] : undefined;
  const options = packsAt >= 0 ? argv.filter((_, i) => i !== packsAt && i !== packsAt + 1) : argv;
  const flags = new Set(options);
  const known = ['--now', '--status', '--resume', '--help'];
  const unknown = options.filter((a) => !known.includes(a));
  const noDir = packsAt >= 0 && (!packsDir || packsDir.startsWith('--'));
  if (flags.has('--help') || unknown.length > 0 || noDir) {
    if (unknown.length) console.error(`Unknown option: ${unknown.join(' ')}`);
    if (noDir) console.error('--packs needs the folder to write the packs into');
    console.error(usage);
    return unknown.length || noDir ? 2 : 0;
  }
  const config = loadConfig();
  const logger = pino({ level: process.env.LOG_LEVEL || 'warn' }, pino.destination(2));
  const services = await createServices(config, logger);
  await services.admin.audit.record({
    organiserId: null,
    commandLine: commandLineUser(),
    action: 'delivery.run',
    details: { options: argv },
  });
  const say = (message: string) => process.stderr.write(`deliver: ${message}\n`);
  try {
    const pause = await services.sender.paused();
    if (flags.has('--status')) {
      const rows = await services.delivery.status();
      process.stdout.write(rows.length ? `${table(rows)}\n` : 'No batches yet.\n');
      const waiting = await services.delivery.awaitingAddress();
      if (waiting.length) {
        process.stdout.write('\nWaiting for an address:\n');
        for (const w of waiting)
          process.stdout.write(`  ${w.country}  ${w.target}: ${countOf(w.count, 'signature')}\n`);
      }
      if (pause)
        process.stdout.write(`\nDelivery is PAUSED since ${new Date(pause.pausedAt).toISOString()}: ${pause.reason}\n`);
      return 0;
    }
    if (packsDir) return await writePacks(services, packsDir, flags.has('--now'), say);
    if (flags.has('--resume')) {
      say((await services.sender.resume()) ? 'delivery resumed' : 'delivery was not paused');
    } else if (pause) {
      say(`delivery is paused (${pause.reason}); fix SMTP_URL, then run with --resume`);
      return 1;
    }
    const planned = await services.delivery.plan(flags.has('--now'));
    say(
      `batched ${countOf(planned.signatures, 'signature')} into ${countOf(planned.batches, 'digest')}` +
        (planned.awaitingAddress
          ? `; ${planned.awaitingAddress} ${plural(planned.awaitingAddress, 'waits', 'wait')} for a target address`
          : ''),
    );
    if (planned.packs > 0) say(packsLine(planned));
    const total = { sent: 0, retried: 0, failed: 0 };
    for (;;) {
      const { claimed, summary } = await services.sender.runBatch();
      total.sent += summary.sent;
      total.retried += summary.retried;
      total.failed += summary.failed;
      if (claimed > 0) say(`sent ${total.sent}, to retry ${total.retried}, failed ${total.failed}`);
      if (summary.paused) {
        say(`PAUSED: the relay refused our credentials (${summary.paused}); fix SMTP_URL, then run with --resume`);
        return 1;
      }
      if (claimed === 0) break;
    }
    say(`done: sent ${total.sent}, to retry ${total.retried}, failed ${total.failed}`);
    return total.failed > 0 ? 1 : total.retried > 0 ? 75 : 0;
  } finally {
    await services.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(`deliver: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
