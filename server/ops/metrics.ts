import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OpsRepository } from './opsRepository';

/**
 * Prometheus metrics on a registry of our own (not prom-client's global one, so that every app a
 * test builds has its own). Request durations are observed as requests finish; the database's
 * figures are read when the scraper asks.
 */
export function createMetrics(repo: OpsRepository, clock: () => number = Date.now) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'undersigned_signatures',
    help: 'Signatures by petition and state',
    labelNames: ['petition', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await repo.signaturesByState()) this.set({ petition: row.petition, state: row.state }, row.n);
    },
  });
  new Gauge({
    name: 'undersigned_outbox_mails',
    help: 'Mails in the outbox by kind and state (queued and sending are the depth; dead needs a look)',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await repo.outboxByState()) this.set({ kind: row.kind, state: row.state }, row.n);
    },
  });
  new Gauge({
    name: 'undersigned_outbox_oldest_queued_seconds',
    help: 'Age of the oldest mail waiting to be sent (0 when none waits)',
    registers: [registry],
    async collect() {
      const at = await repo.oldestQueuedAt();
      this.set(at === null ? 0 : Math.max(0, (clock() - at) / 1000));
    },
  });
  new Gauge({
    name: 'undersigned_delivery_batches',
    help: 'Batches of signatures for the delegations by state (failed and dead ones did not arrive)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await repo.batchesByState()) this.set({ state: row.state }, row.n);
    },
  });

  /** The route pattern, never the path itself: tokens and slugs must not become label values. */
  function routeOf(req: Request, res: Response): string {
    // An answer replayed before routing (http/replay.ts) carries the route it was first made by.
    const replayed = (res.locals as { replayedRoute?: unknown }).replayedRoute;
    if (typeof replayed === 'string') return replayed;
    const pattern = (req.route as { path?: unknown } | undefined)?.path;
    if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
    if (req.originalUrl.startsWith('/assets/')) return '/assets';
    return 'unmatched';
  }

  const observe: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () => {
      end({ method: req.method, route: routeOf(req, res), status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  };

  return {
    registry,
    observe,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
