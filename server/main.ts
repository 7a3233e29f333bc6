import cluster from 'node:cluster';
import net, { type AddressInfo } from 'node:net';
import { createApp } from './app';
import { loadConfigOr, type Config } from './config';
import { databaseName } from './db/open';
import { createLogger, type Logger } from './logger';
import { backgroundEnv, cannotListen, runPrimary, stopMessage } from './ops/cluster';
import { gracefulClose, stopOnSignal, stopOnWriteFailure } from './ops/shutdown';
import { createServices, type Services } from './services';

/** The address a browser on this machine reaches the server at: localhost when it listens on every interface. */
function listeningAt(address: AddressInfo | string | null, host: string): string {
  if (!address || typeof address === 'string') return `http://${host}`;
  const wildcard = ['0.0.0.0', '::', ''].includes(address.address);
  const name = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${name}:${address.port}`;
}

/** The services, or a clear message and exit 1 when the database cannot be opened (PostgreSQL down, say). */
async function openServices(config: Config, logger: Logger): Promise<Services> {
  try {
    return await createServices(config, logger);
  } catch (error) {
    const where = config.databaseUrl
      ? 'the PostgreSQL database at DATABASE_URL'
      : `the database ${config.databasePath}`;
    logger.error({ err: error }, `Undersigned cannot start: ${where} could not be opened`);
    console.error(`Undersigned cannot start: ${where} could not be opened: ${(error as Error).message}`);
    process.exit(1);
  }
}

async function start(): Promise<void> {
  const config = loadConfigOr((message) => {
    console.error(`Undersigned cannot start: ${message}`);
    process.exit(1);
  });
  const logger = createLogger(config.logLevel);
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    // The port is checked, and the database migrated and seeded, once, before the workers start.
    const probe = await new Promise<Error | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', resolve);
      server.listen(config.port, config.host, () => server.close(() => resolve(undefined)));
    });
    if (probe) {
      console.error(`Undersigned cannot listen on ${config.host}:${config.port}: ${probe.message}`);
      process.exit(1);
    }
    await (await openServices(config, logger)).close();
    runPrimary(config.webConcurrency, logger);
    return;
  }
  const services = await openServices(config, logger);
  // In a cluster one worker runs the timers (the outbox's poll, retention, the sweep, the digests);
  // every worker still sends the mail its own requests queued, at once, under the outbox's leases.
  if (!cluster.isWorker || process.env[backgroundEnv] === '1') services.startBackground();
  const app = createApp(services);
  const server = app.listen(config.port, config.host, (error?: Error) => {
    if (error) {
      const message = `Undersigned cannot listen on ${config.host}:${config.port}: ${error.message}`;
      logger.error({ err: error }, message);
      console.error(message);
      process.exit(cluster.isWorker ? cannotListen : 1);
    }
    const mail = config.smtpUrl
      ? 'SMTP relay'
      : config.env === 'production'
        ? `captured in ${config.mailDir} (MAIL_CAPTURE=true): none is delivered`
        : `captured in ${config.mailDir}, shown at ${config.baseUrl}/dev/mailbox`;
    // Where it listens, and where links in mail point when that is elsewhere (a proxy, or a BASE_URL
    // left over from another port): a mismatch shows here, not only in a mail that leads nowhere.
    const here = listeningAt(server.address(), config.host);
    const links = here === config.baseUrl ? '' : `; links in mail point to ${config.baseUrl}`;
    const worker = cluster.isWorker ? `web worker ${cluster.worker!.id} ` : '';
    logger.info(`Undersigned ${worker}listening on ${here}${links} (database ${databaseName(config)}; mail ${mail})`);
    if (!config.smtpUrl && config.env === 'production') logger.warn('MAIL_CAPTURE=true: no mail leaves this server');
  });
  const http = gracefulClose(server, logger);
  // SIGTERM: no new connections, the requests in flight answered, then the background work and the
  // database closed (see services.close), and exit 0.
  // A worker stops when its primary says so (a message): a Ctrl-C in the terminal reaches both, and
  // the primary's word is the one that counts; a SIGTERM to the worker itself stops it too, once.
  if (cluster.isWorker) process.on('SIGINT', () => undefined);
  const stop = stopOnSignal(
    logger,
    cluster.isWorker ? `Undersigned web worker ${cluster.worker!.id}` : 'Undersigned',
    async () => {
      await http.close();
      await services.close();
    },
    cluster.isWorker ? ['SIGTERM'] : ['SIGTERM', 'SIGINT'],
    !cluster.isWorker,
  );
  if (cluster.isWorker) process.on('message', (message) => message === stopMessage && stop('SIGTERM'));
  stopOnWriteFailure(services.store, logger, stop);
}

void start();
