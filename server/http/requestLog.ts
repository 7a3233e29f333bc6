import type { RequestHandler } from 'express';
import { redactPath, type Logger } from '../logger';

/**
 * One JSON line per request, when it ends: method, path (tokens cut out, no query string), status
 * and time taken. No IPs, no cookies, no headers: nothing personal.
 *
 * It writes the lines pino-http wrote (`request completed`, `request errored` for a 5xx, `request
 * aborted` when the client went away first), without what this app never used: a child logger and
 * a request id for every request, and serializers that copy the whole request. On the sign route,
 * under load, pino-http took a tenth of the server's time (bench:sign's profile).
 */
export function requestLog(logger: Logger, ignore: (url: string) => boolean = () => false): RequestHandler {
  return (req, res, next) => {
    if (ignore(req.url)) return next();
    const started = performance.now();
    const line = () => ({
      req: { method: req.method, url: redactPath(req.originalUrl) },
      res: { statusCode: res.statusCode },
      responseTime: Math.round(performance.now() - started),
    });
    const finished = () => {
      res.off('close', aborted);
      if (res.statusCode >= 500) logger.error(line(), 'request errored');
      else logger.info(line(), 'request completed');
    };
    const aborted = () => {
      res.off('finish', finished);
      logger.warn(line(), 'request aborted');
    };
    res.once('finish', finished);
    res.once('close', aborted);
    next();
  };
}
