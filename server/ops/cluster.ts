import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logger';
import { forceExitAfterMs } from './shutdown';

/** Set by the primary in each web worker's environment: "1" for the one that runs the background work. */
export const backgroundEnv = 'UNDERSIGNED_BACKGROUND';

/** What the primary sends a web worker to have it stop gracefully (a signal to the worker would do too). */
export const stopMessage = 'undersigned:stop';
/** A web worker's exit status when it cannot listen (the port is taken): restarting it would not help. */
export const cannotListen = 78;

/** A worker that dies this soon after it started counts as a crash loop: it is restarted more slowly. */
const quickDeathMs = 5_000;
const maxRestartDelayMs = 30_000;

/**
 * The primary of `WEB_CONCURRENCY=N npm start`: forks N web workers that share the port
 * (node:cluster hands connections round-robin), restarts one that dies, and on SIGTERM or SIGINT
 * passes the signal on, waits for every worker to finish its requests and close its database, and
 * exits 0 (1 if a worker did not stop cleanly). The primary never opens the database.
 *
 * One worker, and only one at a time, runs the background work (the outbox sender, retention, the
 * letters' sweep, the digest scheduler): its replacement after a crash takes it over. Leases in the
 * database keep a second sender safe anyway (a separate `npm run worker`, or another machine).
 */
export function runPrimary(workers: number, logger: Logger): void {
  let stopping = false;
  let failures = 0;
  const startedAt = new Map<Worker, number>();
  const role = new Map<Worker, string>();

  function fork(background: boolean, delayMs = 0): void {
    setTimeout(() => {
      if (stopping) return;
      const worker = cluster.fork({ [backgroundEnv]: background ? '1' : '0' });
      startedAt.set(worker, Date.now());
      role.set(worker, background ? '1' : '0');
    }, delayMs);
  }

  cluster.on('exit', (worker, code, signal) => {
    const background = role.get(worker) === '1';
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    role.delete(worker);
    if (code === cannotListen && !stopping) {
      logger.error('Undersigned: a web worker cannot listen (see its message): stopping');
      stop('SIGTERM');
      failures++;
    }
    if (stopping) {
      if (code !== 0) failures++;
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info('Undersigned: every web worker stopped');
        process.exit(failures > 0 ? 1 : 0);
      }
      return;
    }
    // Restarted at once the first time; a worker that keeps dying young waits longer each time.
    const young = lived < quickDeathMs;
    const delayMs = young ? Math.min(maxRestartDelayMs, 500 * 2 ** Math.min(failures++, 6)) : 0;
    if (!young) failures = 0;
    logger.error({ pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'web worker died; restarting it');
    fork(background, delayMs);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `Undersigned: second ${signal}, stopping the workers at once`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'Undersigned stopping: each web worker finishes its requests');
    // Asked by message, not by signal: under systemd (KillMode=control-group) or a Ctrl-C the workers
    // get the signal too, and the two must count as one request to stop, not as "exit at once".
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker) continue;
      try {
        worker.send(stopMessage);
      } catch (error) {
        logger.warn({ err: error, pid: worker.process.pid }, 'web worker unreachable: sending it SIGTERM');
        worker.process.kill('SIGTERM');
      }
    }
    // The workers give up after forceExitAfterMs themselves; a little more here, then nothing waits.
    setTimeout(() => {
      logger.error('Undersigned: web workers still running, killing them');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, forceExitAfterMs + 2_000).unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  logger.info({ workers }, `Undersigned: starting ${workers} web workers`);
  for (let i = 0; i < workers; i++) fork(i === 0);
}
