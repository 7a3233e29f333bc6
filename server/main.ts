import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
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
  const shutdown = () => {
    logger.info('shutting down');
    server.close(() => {
      void services.close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

start();
