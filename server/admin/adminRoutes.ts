import { Router } from 'express';
import session from 'express-session';
import type { i18n } from 'i18next';
import { csrfSync } from 'csrf-sync';
import type { Config } from '../config';
import { consoleFormParsers, consoleRoutes } from '../console/consoleRoutes';
import type { UpdatesService } from '../updates/updatesService';
import type { LettersService } from '../letters/lettersService';
import type { PacksService } from '../packs/packsService';
import type { OutboxSender } from '../mail/outboxSender';
import { createCsrf } from '../http/csrf';
import type { Render } from '../http/render';
import type { PetitionsService } from '../petitions/petitionsService';
import type { Responses } from '../responses/responses';
import type { AdminServices } from './adminServices';
import { createAdminRender } from './adminRender';
import { loginRoutes, logoutRoute, sessionCookieName } from './authRoutes';
import { multipartForm } from './multipartForm';
import { auditRefusals, loadOrganiser, readOnlyForViewers, requireLogin } from './requireRole';

/**
 * Everything under /admin: the only part of the app with sessions. Mounted at /admin, so public
 * pages never create a session row or set a session cookie; nor does the login page, before a
 * successful login.
 *
 * no-store → session → who is logged in → /login → (login required) → form bodies → CSRF → /logout → viewers
 * read only → the console's pages (server/console), each with its own role check.
 */
export function adminRoutes(deps: {
  admin: AdminServices;
  petitions: PetitionsService;
  config: Config;
  render: Render;
  i18n: i18n;
  /** Delivery controls (resume after a pause), when the app sends mail. */
  sender?: OutboxSender;
  /** Held letters to release or drop, when the app has letters. */
  letters?: LettersService;
  /** Campaign updates to write and send, when the app sends mail. */
  updates?: UpdatesService;
  /** Hand-in packs to download and record, when the app has them. */
  packs?: PacksService;
  /** The delegations' answers to record, when the app has them. */
  responses?: Responses;
}): Router {
  const { admin, petitions, config } = deps;
  const production = config.env === 'production';
  const render = createAdminRender(deps.render, deps.i18n);
  const router = Router();

  router.use((_req, res, next) => {
    // Organiser pages and exports hold personal data: never kept by a browser or a proxy (SECURITY 12).
    res.set('Cache-Control', 'no-store');
    res.set('X-Robots-Tag', 'noindex, nofollow');
    next();
  });
  router.use(
    session({
      name: sessionCookieName,
      secret: config.secret,
      store: admin.sessionStore,
      resave: false,
      saveUninitialized: false,
      // The idle timeout: each response pushes the expiry on, in the cookie and in the store.
      rolling: true,
      unset: 'destroy',
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: production,
        path: '/admin',
        maxAge: config.admin.sessionIdleMs,
      },
    }),
  );
  router.use(loadOrganiser(admin.accounts, config.admin.sessionAbsoluteMs));

  // Synchroniser tokens kept in the session (csrf-sync), sent back in the `_csrf` field of every form.
  const csrf = csrfSync({
    getTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
    errorConfig: { statusCode: 403, code: 'EBADCSRFTOKEN' },
  });

  // The login form has no session to keep a token in: it uses the public forms' stateless kind.
  const loginCsrf = createCsrf(config.secret, production);
  router.use(
    loginRoutes({
      accounts: admin.accounts,
      throttle: admin.loginThrottle,
      audit: admin.audit,
      render,
      csrf: loginCsrf,
    }),
  );
  router.use(requireLogin);
  // The one file upload (targets CSV) is read before the CSRF check, which needs its `_csrf` field.
  router.use('/targets/import', multipartForm(512 * 1024));
  router.use(consoleFormParsers());
  router.use(csrf.csrfSynchronisedProtection);
  router.post('/logout', logoutRoute({ audit: admin.audit, secure: production }));
  router.use(readOnlyForViewers);

  router.use(
    consoleRoutes({
      admin,
      petitions,
      config,
      render,
      i18n: deps.i18n,
      sender: deps.sender,
      letters: deps.letters,
      updates: deps.updates,
      packs: deps.packs,
      responses: deps.responses,
    }),
  );
  router.use(auditRefusals(admin.audit));
  return router;
}
