import type { RequestHandler, Response } from 'express';
import { HttpError } from '../errors';
import type { AccountsService } from './accountsService';
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
  return (req, res, next) => {
    const id = req.session.organiserId;
    if (id === undefined) return next();
    const organiser = accounts.find(id);
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
