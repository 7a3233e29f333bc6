import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { HttpError } from '../errors';
import type { AccountsService } from './accountsService';
import type { AuditLog } from './auditLog';
import { hasRole, type Role } from './roles';

declare module 'express-session' {
  interface SessionData {
    organiserId?: number;
    /** When the person logged in: the absolute timeout counts from here, however active they are. */
    loginAt?: number;
  }
}

/** Who is logged in, as the console's routes and pages see them. */
export interface CurrentOrganiser {
  id: number;
  email: string;
  role: Role;
}

export const forbidden = () => new HttpError(403, 'admin.errors.forbidden.title', 'admin.errors.forbidden.message');

export function currentOrganiser(res: Response): CurrentOrganiser | undefined {
  return res.locals.organiser as CurrentOrganiser | undefined;
}

/**
 * Puts the logged-in organiser in res.locals, read afresh from the database on every request so that
 * a disabled account or a changed role takes effect at once. A session past its absolute lifetime, or
 * whose account is gone or disabled, is destroyed on the server.
 */
export function loadOrganiser(accounts: AccountsService, absoluteMs: number, clock = Date.now): RequestHandler {
  return async (req, res, next) => {
    // No session where its cookie's path does not match (the path is case-sensitive: /ADMIN/…).
    const id = req.session?.organiserId;
    if (id === undefined) return next();
    const organiser = await accounts.find(id);
    const expired = clock() - (req.session.loginAt ?? 0) > absoluteMs;
    if (!organiser || organiser.disabled || expired) {
      return req.session.destroy((error) => next(error));
    }
    res.locals.organiser = { id: organiser.id, email: organiser.email, role: organiser.role };
    next();
  };
}

/** Anyone not logged in is sent to the login page (GET) or refused (anything else). */
export const requireLogin: RequestHandler = (req, res, next) => {
  if (currentOrganiser(res)) return next();
  if (req.method === 'GET' || req.method === 'HEAD') {
    return res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
  }
  next(forbidden());
};

export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    const organiser = currentOrganiser(res);
    if (organiser && hasRole(organiser.role, role)) return next();
    next(forbidden());
  };
}

/** A second fence behind each route's own check: a viewer never changes anything. */
export const readOnlyForViewers: RequestHandler = (req, res, next) => {
  const organiser = currentOrganiser(res);
  if (organiser?.role === 'viewer' && req.method !== 'GET' && req.method !== 'HEAD') return next(forbidden());
  next();
};

/**
 * Puts every request the console refuses (403) to a logged-in organiser in the audit log: their role
 * does not allow it, or its form token is wrong (SECURITY 20). Passes the error on to be rendered.
 * Refusals of anonymous requests are in the request log only: anyone could fill a table with them.
 */
export function auditRefusals(audit: AuditLog): ErrorRequestHandler {
  return async (error: unknown, req, res, next) => {
    const organiser = currentOrganiser(res);
    const csrf = (error as { code?: unknown } | null)?.code === 'EBADCSRFTOKEN';
    if (organiser && (csrf || (error instanceof HttpError && error.status === 403))) {
      await audit.record({
        organiserId: organiser.id,
        action: 'request.refused',
        // The path without its query, which may hold what was looked for (an address, say).
        subject: `${req.method} ${req.baseUrl}${req.path}`,
        details: { reason: csrf ? 'csrf' : 'role', role: organiser.role },
      });
    }
    next(error);
  };
}
