/**
 * npm run export -- --petition <slug> [--country XX] [--state validated|…|all] [--out file]
 *
 * The console's signatures export from the command line: the same query, the same CSV (formula-safe
 * cells), streamed to stdout or a file. Progress goes to stderr: a bar on a terminal, otherwise a
 * line every 10 %.
 */
import { databaseName, openStore } from '../../db/open';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { commandLineUser, createAuditLog } from '../../admin/auditLog';
import { loadConfigOr } from '../../config';
import { countOf } from '../../i18n/plural';
import { petitionsRepository } from '../../petitions/petitionsRepository';
import { exportRepository } from './exportRepository';
import { exportFilters, exportStates, writeSignaturesCsv } from './exportService';

const usage = `Usage: npm run export -- --petition <slug> [--country XX] [--state ${exportStates.join('|')}] [--out file]`;

function fail(message: string): never {
  process.stderr.write(`export: ${message}\n`);
  process.exit(1);
}

function progress(total: number) {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return (rows: number, done = false) => {
    const fraction = total === 0 ? 1 : Math.min(1, rows / total);
    if (tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${rows.toLocaleString('en')}/${total.toLocaleString('en')}`,
      );
      if (done) process.stderr.write('\n');
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth > lastTenth || done) {
      lastTenth = tenth;
      process.stderr.write(`export: ${rows} of ${countOf(total, 'row')} (${Math.floor(fraction * 100)}%)\n`);
    }
  };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        petition: { type: 'string' },
        country: { type: 'string' },
        state: { type: 'string', default: 'validated' },
        out: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (!args.petition) fail(`Give a petition.\n${usage}`);
  const config = loadConfigOr(fail);
  if (!config.databaseUrl && !fs.existsSync(config.databasePath)) {
    fail(`No database at ${config.databasePath} (set DATABASE_PATH, or DATABASE_URL for PostgreSQL).`);
  }
  const { store } = await openStore(config).catch((error: Error) =>
    fail(`The database ${databaseName(config)} could not be opened: ${error.message}`),
  );
  const petitions = petitionsRepository(store);
  const slugs = await petitions.slugsById();
  const petitionIds = new Map([...slugs].map(([id, slug]) => [slug, id]));
  const countries = new Set((await petitions.countries()).map((c) => c.code));
  const parsed = exportFilters(
    {
      petition: args.petition,
      country: (args.country ?? '').toUpperCase(),
      state: args.state ?? 'validated',
      from: '',
      to: '',
      optedIn: false,
    },
    { petitionId: (slug) => petitionIds.get(slug), countries },
  );
  if (!parsed.ok) {
    const problems = Object.keys(parsed.errors).map((field) =>
      field === 'petition'
        ? `There is no petition "${args.petition}".`
        : field === 'country'
          ? `There is no country "${args.country}".`
          : `--state must be one of ${exportStates.join(', ')}.`,
    );
    fail(problems.join(' '));
  }

  await createAuditLog(store).record({
    organiserId: null,
    commandLine: commandLineUser(),
    action: 'signatures.export',
    subject: args.petition,
    details: { petition: args.petition, country: args.country ?? '', state: args.state, output: args.out ?? 'stdout' },
  });
  // The rows that exist now, counted for the progress and then read page by page.
  const repo = exportRepository(store);
  const upTo = await repo.highestId();
  const report = progress(await repo.count(parsed.filters, upTo));
  const out: Writable = args.out ? fs.createWriteStream(args.out) : process.stdout;
  const rows = await writeSignaturesCsv(repo.pages(parsed.filters, { upTo }), out, {
    slugOf: (id) => slugs.get(id) ?? String(id),
    onProgress: (n) => report(n),
  });
  report(rows, true);
  if (args.out)
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  await store.close();
  if (args.out) process.stderr.write(`export: ${countOf(rows, 'row')} written to ${args.out}\n`);
}

void main();
