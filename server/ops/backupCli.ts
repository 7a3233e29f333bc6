/**
 * npm run backup -- --out FILE
 *
 * A consistent copy of the SQLite database while the server runs, verified before it is kept.
 * Exits 0 with a one-line summary on stderr, 1 with the reason.
 */
import { parseArgs } from 'node:util';
import { loadConfigOr } from '../config';
import { backupSqlite } from './backup';

const usage = 'Usage: npm run backup -- --out FILE';

function fail(message: string): never {
  process.stderr.write(`backup: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let out: string | undefined;
  try {
    out = parseArgs({ options: { out: { type: 'string' } }, strict: true }).values.out;
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (!out) fail(`Say where the copy goes.\n${usage}`);
  const config = loadConfigOr(fail);
  if (config.databaseUrl) {
    fail(
      'DATABASE_URL is set: the data is in PostgreSQL, which this command does not copy. Use ' +
        'pg_dump --format=custom --file=FILE "$DATABASE_URL" (restore with pg_restore), or your ' +
        "provider's point-in-time recovery (see the README, Running in production).",
    );
  }
  try {
    const result = await backupSqlite(config.databasePath, out);
    const mb = (result.bytes / 1024 / 1024).toFixed(1);
    process.stderr.write(`backup: ${config.databasePath} copied to ${result.file} (${mb} MB), integrity ok\n`);
  } catch (error) {
    fail((error as Error).message);
  }
}

void main();
