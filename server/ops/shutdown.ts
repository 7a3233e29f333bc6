import type { Server, ServerResponse } from 'node:http';
import type { Logger } from '../logger';

/** How long a graceful stop may take before the process exits anyway (systemd waits 30 s, Docker 10 by default). */
export const forceExitAfterMs = 25_000;

/**
 * On the first SIGTERM (or SIGINT) runs `stop` and exits 0 once it is done. A second signal, or a
 * stop still running after `forceExitAfterMs`, exits at once with 1: what was unfinished is left as
 * a crash leaves it (a lease runs out and the mail is sent again; SQLite replays its journal).
 */
export function stopOnSignal(
  logger: Logger,
  name: string,
  stop: () => Promise<void>,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `${name}: second ${signal}, exiting without finishing`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${name} stopping (${signal}; a second one exits at once)`);
    setTimeout(() => {
      logger.error(`${name}: still stopping after ${forceExitAfterMs / 1000} s, exiting without finishing`);
      process.exit(1);
    }, forceExitAfterMs).unref();
    stop().then(
      () => {
        logger.info(`${name}: stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${name}: stopping failed`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

/**
 * Lets an HTTP server stop gracefully: `close()` stops accepting connections, lets the requests in
 * flight be answered (each with `Connection: close`, as is any request a kept-alive connection still
 * sends meanwhile), then closes every connection left, idle kept-alive ones included, so that no
 * client holds the process open. Call it before the server handles its first request.
 */
export function gracefulClose(server: Server, logger: Logger): { close(): Promise<void> } {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (closing) res.setHeader('Connection', 'close');
    inFlight.add(res);
    // 'close' comes once the response is sent, or once its client has gone.
    res.once('close', () => {
      inFlight.delete(res);
      if (!closing) return;
      server.closeIdleConnections();
      if (inFlight.size === 0) drained?.();
    });
  });
  return {
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      logger.info({ inFlight: inFlight.size }, 'HTTP: no new connections; answering the requests in flight');
      if (inFlight.size > 0) await new Promise<void>((resolve) => (drained = resolve));
      server.closeAllConnections();
      await closed;
      logger.info('HTTP: every request answered, every connection closed');
    },
  };
}
