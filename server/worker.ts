/**
 * npm run worker — the background work alone, without HTTP: the outbox sender, the digest
 * scheduler, the retention job and the sweep of stale letters. For deployments where the web
 * processes run with DELIVERY_IN_SERVER=false, or a machine of its own sends the mail. Several
 * workers are safe: mails and batches are claimed with leases in the database.
 */
import { loadConfigOr } from './config';
import { databaseName } from './db/open';
import { createLogger } from './logger';
import { stopOnSignal, stopOnWriteFailure } from './ops/shutdown';
import { createServices } from './services';

async function start(): Promise<void> {
  const config = loadConfigOr((message) => {
    console.error(`Undersigned worker cannot start: ${message}`);
    process.exit(1);
  });
  const logger = createLogger(config.logLevel);
  const services = await createServices(config, logger).catch((error: unknown) => {
    const where = config.databaseUrl
      ? 'the PostgreSQL database at DATABASE_URL'
      : `the database ${config.databasePath}`;
    console.error(`Undersigned worker cannot start: ${where} could not be opened: ${(error as Error).message}`);
    process.exit(1);
  });
  services.startBackground({ delivery: true });
  // The background timers do not hold a process open on their own (in the server, the listening
  // socket does): this one keeps the worker running until it is told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  logger.info(`Undersigned worker running (database ${databaseName(config)})`);
  // SIGTERM: the mail the relay has is recorded, the rest of what was claimed goes back to the
  // queue, and the database is closed (see services.close).
  const stop = stopOnSignal(logger, 'Undersigned worker', async () => {
    clearInterval(keepAlive);
    await services.close();
  });
  stopOnWriteFailure(services.store, logger, stop);
}

void start();
