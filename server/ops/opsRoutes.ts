import crypto from 'node:crypto';
import { Router, type Request } from 'express';
import type { Metrics } from './metrics';
import type { Readiness } from './readiness';

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

const loopback = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Metrics are for the operator: a request carrying METRICS_TOKEN, or one made on this machine.
 * "On this machine" is the socket's own address, never X-Forwarded-For; and a request that came
 * through a proxy (which is on loopback too) is not a local one.
 */
export function metricsAllowed(req: Request, token: string | undefined): boolean {
  const auth = req.get('authorization');
  if (token && auth?.startsWith('Bearer ')) return sameSecret(auth.slice(7), token);
  const proxied = req.get('x-forwarded-for') !== undefined || req.get('forwarded') !== undefined;
  return !proxied && loopback.test(req.socket.remoteAddress ?? '');
}

/** /healthz (the process answers), /readyz (it can do its work), /metrics (Prometheus). */
export function opsRoutes(deps: {
  readiness: () => Promise<Readiness>;
  metrics: Metrics;
  metricsToken: string | undefined;
}): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('text/plain').send('ok\n');
  });
  router.get('/readyz', async (_req, res) => {
    const result = await deps.readiness();
    res
      .status(result.ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: result.ready ? 'ready' : 'not ready', checks: result.checks });
  });
  router.get('/metrics', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (!metricsAllowed(req, deps.metricsToken)) {
      res.status(403).type('text/plain').send('Metrics are served to this machine, or with METRICS_TOKEN.\n');
      return;
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
