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
  /**
   * Whether a second signal exits at once. A cluster's web worker says no: the same stop may reach
   * it twice (a signal to the whole process group, then its primary's request), and the primary
   * itself exits at once on a second signal, killing its workers.
   */
  secondExits = true,
): (reason: string) => void {
  let stopping = false;
  /** Begins the graceful stop for another reason than a signal (a cluster's primary asking); once only. */
  const begin = (reason: string) => {
    if (stopping) return;
    onSignal(reason as NodeJS.Signals);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (!secondExits) return;
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
  return begin;
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
