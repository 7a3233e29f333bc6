import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { createCsrf } from '../http/csrf';
import { siteFormParser } from '../http/formParsers';
import { safeNext, type AdminRender } from './adminRender';
import type { AccountsService } from './accountsService';
import type { AuditLog } from './auditLog';
import type { LoginThrottle } from './loginThrottle';
import { currentOrganiser } from './requireRole';

export const sessionCookieName = 'undersigned.sid';

/**
 * GET and POST /admin/login: open to anyone, so no session exists before a successful login (a
 * crawler would otherwise fill the sessions table). The form is protected like the public ones, by
 * a signed double-submit cookie; the console's session-bound tokens start after login.
 */
export function loginRoutes(deps: {
  accounts: AccountsService;
  throttle: LoginThrottle;
  audit: AuditLog;
  render: AdminRender;
  csrf: ReturnType<typeof createCsrf>;
}): Router {
  const { accounts, throttle, audit, render, csrf } = deps;
  const router = Router();
  const checkToken: RequestHandler = (req, _res, next) =>
    next(csrf.validateRequest(req) ? undefined : csrf.invalidCsrfTokenError);
  const token = (req: Request, res: Response) => csrf.generateCsrfToken(req, res);

  router.get('/login', (req, res) => {
    if (currentOrganiser(res)) return res.redirect(303, safeNext(req.query.next));
    render(req, res, 'login', {
      titleKey: 'admin.login.title',
      email: '',
      next: safeNext(req.query.next),
      csrfToken: token(req, res),
    });
  });

  // The one console form read before login (the app leaves the console's bodies to the console).
  router.post('/login', siteFormParser, checkToken, async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const email = typeof body.email === 'string' ? body.email.slice(0, 300) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1000) : '';
    const target = safeNext(body.next);
    // Too many failures from this client: refused before any password is checked or anything written.
    const waitMs = throttle.begin(req.ip);
    if (waitMs > 0) {
      const minutes = Math.ceil(waitMs / 60_000);
      res.set('Retry-After', String(Math.ceil(waitMs / 1000)));
      const again = {
        titleKey: 'admin.login.title',
        email,
        next: target,
        throttled: minutes,
        hasErrors: true,
        csrfToken: token(req, res),
      };
      return render(req, res, 'login', again, 429);
    }
    const result = await accounts.login(email, password);
    if (!result.ok) {
      await audit.record({
        organiserId: result.organiserId,
        action: 'login.failed',
        details: { reason: result.reason },
      });
      if (result.lockedNow) await audit.record({ organiserId: result.organiserId, action: 'account.locked' });
      // One message whatever went wrong: it must not tell whether the address has an account.
      const again = {
        titleKey: 'admin.login.title',
        email,
        next: target,
        failed: true,
        hasErrors: true,
        csrfToken: token(req, res),
      };
      return render(req, res, 'login', again, 401);
    }
    throttle.succeeded(req.ip);
    // A new session id at login, so an id planted before login is worth nothing after it.
    await audit.record({ organiserId: result.organiser.id, action: 'login' });
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.organiserId = result.organiser.id;
      req.session.loginAt = Date.now();
      req.session.save((saveError) => (saveError ? next(saveError) : res.redirect(303, target)));
    });
  });

  return router;
}

/** POST /admin/logout: the session ends on the server, not only in the browser. */
export function logoutRoute(deps: { audit: AuditLog; secure: boolean }): RequestHandler {
  return async (req, res, next) => {
    const organiser = currentOrganiser(res);
    if (organiser) await deps.audit.record({ organiserId: organiser.id, action: 'logout' });
    req.session.destroy((error) => {
      if (error) return next(error);
      res.clearCookie(sessionCookieName, { path: '/admin', httpOnly: true, sameSite: 'lax', secure: deps.secure });
      res.redirect(303, '/admin/login?notice=loggedOut');
    });
  };
}
