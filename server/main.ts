import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { gracefulClose, stopOnSignal } from './ops/shutdown';
import { createServices } from './services';

function start(): void {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Undersigned cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const services = createServices(config, logger);
  services.startBackground();
  const app = createApp(services);
  const server = app.listen(config.port, config.host, () => {
    const mail = config.smtpUrl
      ? 'SMTP relay'
      : config.env === 'production'
        ? `captured in ${config.mailDir} (MAIL_CAPTURE=true): none is delivered`
        : `captured in ${config.mailDir}, shown at ${config.baseUrl}/dev/mailbox`;
    logger.info(`Undersigned listening on ${config.baseUrl} (database ${config.databasePath}; mail ${mail})`);
    if (!config.smtpUrl && config.env === 'production') logger.warn('MAIL_CAPTURE=true: no mail leaves this server');
  });
  const http = gracefulClose(server, logger);
  // SIGTERM: no new connections, the requests in flight answered, then the background work and the
  // database closed (see services.close), and exit 0.
  stopOnSignal(logger, 'Undersigned', async () => {
    await http.close();
    await services.close();
  });
}

start();
