/**
 * npm run deliver [-- --now | --status | --resume]
 *
 * One delivery pass for cron or a separate worker, with the server's configuration (DATABASE_PATH,
 * SMTP_URL, MAIL_FROM, BASE_URL): batch the signatures that are due into digests, then send every
 * mail that is due. Progress goes to stderr. Exit codes: 0 all sent; 1 something failed for good or
 * delivery is paused; 75 only temporary failures (they are retried by the next pass).
 */
import pino from 'pino';
import { commandLineUser } from '../admin/auditLog';
import { ConfigError, loadConfig } from '../config';
import { countOf, plural } from '../i18n/plural';
import { createServices } from '../services';
import type { BatchStatus } from './deliveryRepository';

const usage = `Usage: npm run deliver [-- --now | --status | --resume]
  (no option)  batch the signatures that are due (N new, or T hours old) and send all due mail
  --now        batch every waiting signature regardless of N and T, then send
  --status     print the batches: target, petition, signatures, state, attempts, last error
  --resume     lift a pause left by an authentication failure at the relay`;

function table(rows: BatchStatus[]): string {
  const head = ['batch', 'target', 'country', 'petition', 'signatures', 'state', 'attempts', 'last error'];
  const body = rows.map((r) => [
    String(r.id),
    r.target.length > 40 ? `${r.target.slice(0, 39)}…` : r.target,
    r.country,
    r.petition,
    String(r.signatures),
    r.state,
    String(r.attempts),
    (r.lastError ?? '').slice(0, 60),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv);
  const known = ['--now', '--status', '--resume', '--help'];
  const unknown = argv.filter((a) => !known.includes(a));
  if (flags.has('--help') || unknown.length > 0) {
    if (unknown.length) console.error(`Unknown option: ${unknown.join(' ')}`);
    console.error(usage);
    return unknown.length ? 2 : 0;
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
