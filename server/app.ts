import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { i18n } from 'i18next';
import { adminRoutes } from './admin/adminRoutes';
import type { AdminServices } from './admin/adminServices';
import { appRoot, type Config } from './config';
import { mailboxRoutes } from './dev/mailboxRoutes';
import type { DeliveryRecord } from './deliveries/deliveryRecord';
import { deliveryRecordRoutes } from './deliveries/deliveryRecordRoutes';
import { noStoreUnlessSafe, publicCacheControl, strongEtag } from './http/caching';
import { errorHandler, notFoundHandler } from './http/errorHandler';
import { publicFormParser } from './http/formParsers';
import { crossOriginProtection } from './http/originCheck';
import { createReplay } from './http/replay';
import { requestLog } from './http/requestLog';
import { createRender } from './http/render';
import { localeMiddleware } from './i18n/localeMiddleware';
import type { OutboxSender } from './mail/outboxSender';
import { letterBodyParser, letterForms, lettersRoutes } from './letters/lettersRoutes';
import { repliesRoutes } from './letters/replies/repliesRoutes';
import { delegationsRoutes } from './delegations/delegationsRoutes';
import type { Responses } from './responses/responses';
import type { TargetsRepository } from './targets/targetsRepository';
import type { LettersService } from './letters/lettersService';
import type { PacksService } from './packs/packsService';
import type { Logger } from './logger';
import { createPetitionView } from './petitions/petitionView';
import { petitionsRoutes } from './petitions/petitionsRoutes';
import { apiRoutes } from './api/apiRoutes';
import type { PetitionsService } from './petitions/petitionsService';
import { signaturesRoutes } from './signatures/signaturesRoutes';
import type { SignaturesService } from './signatures/signaturesService';
import type { Views } from './views/views';
import type { Metrics } from './ops/metrics';
import { opsRoutes } from './ops/opsRoutes';
import { embedRoutes, isEmbedPath } from './embed/embedRoutes';
import type { Readiness } from './ops/readiness';
import type { Executor } from './db/store';
import type { UpdatesService } from './updates/updatesService';

export interface AppDeps {
  config: Config;
  logger: Logger;
  views: Views;
  petitions: PetitionsService;
  signatures: SignaturesService;
  admin: AdminServices;
  i18n: i18n;
  sender?: OutboxSender;
  letters: LettersService;
  /** Hand-in packs for the console, when the app has them. */
  packs?: PacksService;
  readiness: () => Promise<Readiness>;
  metrics: Metrics;
  store: Executor;
  updates?: UpdatesService;
  deliveryRecord: DeliveryRecord;
  /** The delegations, for their public pages. */
  targets: TargetsRepository;
  /** The delegations' answers (the console records them; the public pages show them). */
  responses: Responses;
  /** How long a public page or JSON may be kept (COUNT_REFRESH_SECONDS; 60 on one process). */
  publicMaxAgeSeconds: number;
  /** The services' clock (tests let time pass): how long a signed page parameter lasts is read on it. */
  clock?: () => number;
}

/** middleware → feature routers → 404 → one error handler. Everything it uses is passed in. */
export function createApp(deps: AppDeps): Express {
  const { config, logger, views } = deps;
  const production = config.env === 'production';
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  // Strong validators (a hash of the bytes) on every answer, and 304 for a client that has them.
  app.set('etag', (body: string | Buffer) => strongEtag(body));
  app.locals.publicCacheControl = publicCacheControl(config.countRefreshSeconds);
  app.use(deps.metrics.observe);
  // Probes and scrapes come every few seconds: answered before anything else, and never logged.
  app.use(opsRoutes({ readiness: deps.readiness, metrics: deps.metrics, metricsToken: config.metricsToken }));

  // (Skipped when logging is off: its per-request work is not free.)
  if (logger.level !== 'silent') app.use(requestLog(logger, (url) => url.startsWith('/assets/')));
  // A public page read again and again is answered here, as it was last sent, until its data
  // changes (at most a second later): the headers, language and routing below gave that answer.
  app.use(
    createReplay({
      version: () => deps.petitions.version(),
      cacheControl: app.locals.publicCacheControl as string,
      clock: deps.clock,
    }).serve,
  );
  // Security headers. No page may be framed by another site ('none'), except the embed pages
  // (/embed/*), which the sites in EMBED_ORIGINS may frame (and we may: the console's preview).
  const securityHeaders = (frameAncestors: string[]) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          frameAncestors,
          ...(production ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      // frame-ancestors says it for browsers of today; X-Frame-Options cannot name other sites.
      xFrameOptions: frameAncestors[0] === "'none'" ? { action: 'sameorigin' } : false,
      strictTransportSecurity: production ? { maxAge: 31536000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    });
  const pageHeaders = securityHeaders(["'none'"]);
  const embedHeaders = securityHeaders(config.embedOrigins.includes('*') ? ['*'] : ["'self'", ...config.embedOrigins]);
  app.use((req, res, next) => (isEmbedPath(req.path) ? embedHeaders : pageHeaders)(req, res, next));
  app.use('/assets', express.static(path.join(appRoot, 'views', 'assets'), { maxAge: production ? '1d' : 0 }));
  // The public read API: JSON for anyone, no cookie, no form, so nothing below concerns it.
  app.use(
    '/api/v1',
    apiRoutes({
      petitions: deps.petitions,
      store: deps.store,
      baseUrl: config.baseUrl,
      countRefreshSeconds: config.countRefreshSeconds,
    }),
  );
  app.use(cookieParser());
  // The embed's frame and the badge image take their language from the address, and set no cookie.
  app.use(localeMiddleware(production, (req) => !isEmbedPath(req.path) && !req.path.endsWith('/badge.svg')));

  // Public forms carry no token and public pages set no cookie (so that they can be cached, and
  // signed inside a partner's frame): a POST from another site is refused by the browser's own
  // headers, before its body is read. The console keeps its sessions and synchroniser tokens.
  app.use(crossOriginProtection({ baseUrl: config.baseUrl }));
  app.post(letterForms, letterBodyParser); // a letter may be longer than the site-wide limits
  app.use(publicFormParser); // the console reads its own forms, after login (server/admin/adminRoutes.ts)
  app.use(noStoreUnlessSafe);

  const render = createRender(views, { baseUrl: config.baseUrl, devMailbox: !production });
  const view = createPetitionView({ render, petitions: deps.petitions, baseUrl: config.baseUrl });
  app.use(
    petitionsRoutes({
      petitions: deps.petitions,
      render,
      view,
      i18n: deps.i18n,
      countRefreshSeconds: config.countRefreshSeconds,
    }),
  );
  app.use(
    deliveryRecordRoutes({
      petitions: deps.petitions,
      deliveryRecord: deps.deliveryRecord,
      render,
      i18n: deps.i18n,
      baseUrl: config.baseUrl,
      maxAgeSeconds: deps.publicMaxAgeSeconds,
    }),
  );
  app.use(
    delegationsRoutes({
      targets: deps.targets,
      deliveryRecord: deps.deliveryRecord,
      responses: deps.responses,
      render,
    }),
  );
  app.use(signaturesRoutes({ ...deps, render, view, baseUrl: config.baseUrl, secret: config.secret }));
  app.use(
    embedRoutes({
      petitions: deps.petitions,
      render,
      view,
      i18n: deps.i18n,
      countRefreshSeconds: config.countRefreshSeconds,
    }),
  );
  app.use('/admin', adminRoutes({ ...deps, render }));
  app.use(lettersRoutes({ letters: deps.letters, render, petitions: deps.petitions, responses: deps.responses }));
  app.use(repliesRoutes({ letters: deps.letters, render, i18n: deps.i18n }));
  if (!production) app.use(mailboxRoutes({ mailDir: config.mailDir, render }));

  app.use(notFoundHandler);
  app.use(errorHandler(render, logger, !production));
  return app;
}
