import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError, notFound } from '../errors';
import type { Logger } from '../logger';
import type { Render } from './render';

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());

interface BodyParserError {
  status?: number;
  type?: string;
  code?: string;
}

/**
 * PostgreSQL's answers to a value it cannot store or compare, which SQLite accepts: a NUL byte in
 * text (22021 in UTF-8), a number out of range for its column (22003), text that is not a number
 * (22P02). They come from what a visitor typed or put in the address: a bad request, not a fault.
 */
const badValueCodes = new Set(['22021', '22P05', '22003', '22P02']);

/** The one error handler: a page with a safe message; the stack only in development. */
export function errorHandler(render: Render, logger: Logger, showStack: boolean): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const e = error as BodyParserError;
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (e.code === 'EBADCSRFTOKEN') http = new HttpError(403, 'errors.csrf.title', 'errors.csrf.message');
    else if (e.status === 413 || e.type === 'entity.too.large' || e.type === 'parameters.too.many') {
      http = new HttpError(413, 'errors.tooLarge.title', 'errors.tooLarge.message');
    } else if (e.status === 400 || e.status === 415 || (typeof e.code === 'string' && badValueCodes.has(e.code))) {
      http = new HttpError(400, 'errors.badRequest.title', 'errors.badRequest.message');
    } else {
      logger.error({ err: error }, 'unhandled error');
      http = new HttpError(500, 'errors.server.title', 'errors.server.message');
    }
    const stack = showStack && http.status === 500 && error instanceof Error ? error.stack : undefined;
    if (!res.locals.lang) res.locals.lang = 'en';
    // A public page that failed is not kept in place of the page (nor, by a proxy, for others).
    res.set('Cache-Control', 'no-store');
    render(
      req,
      res,
      'error',
      { titleKey: http.titleKey, messageKey: http.messageKey, status: http.status, stack },
      http.status,
    );
  };
}
