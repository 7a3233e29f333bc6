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
    } else if (e.status === 400 || e.status === 415) {
      http = new HttpError(400, 'errors.badRequest.title', 'errors.badRequest.message');
    } else {
      logger.error({ err: error }, 'unhandled error');
      http = new HttpError(500, 'errors.server.title', 'errors.server.message');
    }
    const stack = showStack && http.status === 500 && error instanceof Error ? error.stack : undefined;
    if (!res.locals.lang) res.locals.lang = 'en';
    render(
      req,
      res,
      'error',
      { titleKey: http.titleKey, messageKey: http.messageKey, status: http.status, stack },
      http.status,
    );
  };
}
