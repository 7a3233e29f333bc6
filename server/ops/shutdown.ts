import type { Server, ServerResponse } from 'node:http';
import type { Store } from '../db/store';
import type { Logger } from '../logger';

/** How long a graceful stop may take before the process exits anyway (systemd waits 30 s, Docker 10 by default). */
export const forceExitAfterMs = 25_000;

/**
 * On the first SIGTERM (or SIGINT) runs `stop` and exits 0 once it is done (or with the code the
 * returned `begin` was given, when it was a failure that began the stop). A second signal, or a
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
): (reason: string, exitCode?: number) => void {
  let stopping = false;
  /** Whether a signal has been seen: a stop begun for another reason is not one. */
  let signalled = false;
  /** The status the process exits with once stopped: 0, unless it stops because something failed. */
  let stoppedCode = 0;
  const startStop = (reason: string, exitsAtOnce: boolean) => {
    stopping = true;
    logger.info({ reason }, `${name} stopping (${reason}${exitsAtOnce ? '; a second signal exits at once' : ''})`);
    setTimeout(() => {
      logger.error(`${name}: still stopping after ${forceExitAfterMs / 1000} s, exiting without finishing`);
      process.exit(1);
    }, forceExitAfterMs).unref();
    stop().then(
      () => {
        logger.info(`${name}: stopped`);
        process.exit(stoppedCode);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${name}: stopping failed`);
        process.exit(1);
      },
    );
  };
  /**
   * Begins the graceful stop for another reason than a signal (a cluster's primary asking, or a
   * failure that a restart mends, which exits with `exitCode`); once only. It is not a signal: the
   * first signal that arrives during it (a supervisor's SIGTERM) lets it finish.
   */
  const begin = (reason: string, exitCode = 0) => {
    stoppedCode ||= exitCode;
    if (!stopping) startStop(reason, false);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping && signalled) {
      if (!secondExits) return;
      logger.warn({ signal }, `${name}: second ${signal}, exiting without finishing`);
      process.exit(1);
    }
    signalled = true;
    if (stopping) {
      logger.info(
        { signal },
        `${name}: ${signal} while stopping; ${secondExits ? 'a second one exits at once' : 'still stopping'}`,
      );
      return;
    }
    startStop(signal, secondExits);
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

/**
 * Once the database can no longer write durably (a failed fsync of SQLite's WAL: the kernel reports
 * a lost write once, so no later commit can be trusted), stops the process gracefully and exits 1,
 * as PostgreSQL stops after a failed fsync: its supervisor (systemd, Compose's restart policy, the
 * cluster's primary) starts it again. Meanwhile no write is answered as done and /readyz answers
 * 503. A restart does not prove the disk sound: the README says what to check.
 */
export function stopOnWriteFailure(
  store: Pick<Store, 'onWriteFailure'>,
  logger: Logger,
  stop: (reason: string, exitCode?: number) => void,
): void {
  store.onWriteFailure?.((error) => {
    logger.fatal({ err: error }, 'writes are no longer durable: stopping, to be restarted');
    stop('write failure', 1);
  });
}
