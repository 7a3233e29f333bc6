import { Router } from 'express';
import type { i18n } from 'i18next';
import type { AdminServices } from '../admin/adminServices';
import type { AdminRender } from '../admin/adminRender';
import type { Config } from '../config';
import type { LettersService } from '../letters/lettersService';
import type { PacksService } from '../packs/packsService';
import { packsRoutes } from './packs/packsRoutes';
import type { OutboxSender } from '../mail/outboxSender';
import type { PetitionsService } from '../petitions/petitionsService';
import { accountsRoutes } from './accounts/accountsRoutes';
import { dashboardRoutes } from './dashboard/dashboardRoutes';
import { deliveryAdminRoutes } from './delivery/deliveryAdmin';
import { exportRoutes } from './exports/exportRoutes';
import { lettersAdminRoutes } from './letters/lettersAdmin';
import { petitionAdminRoutes } from './petitions/petitionAdminRoutes';
import { embedConsoleRoutes } from './petitions/embedConsoleRoutes';
import { signatureAdminRoutes } from './signatures/signatureAdminRoutes';
import { targetsRoutes } from './targets/targetsRoutes';
import { updateBodyParser, updateForms, updatesRoutes } from './updates/updatesRoutes';
import type { UpdatesService } from '../updates/updatesService';
import type { Responses } from '../responses/responses';
import { responseBodyParser, responseForms, responsesRoutes } from './responses/responsesRoutes';
import { tellTheSignersDraft } from './responses/tellTheSigners';
import { siteFormParser } from '../http/formParsers';

/**
 * The console's form bodies, read once login is checked (so an anonymous request's body is never
 * read, however large) and before the CSRF check, which reads `_csrf` from them. The composer's and
 * the answers' forms get their larger limits; every other form the site-wide ones.
 */
export function consoleFormParsers(): Router {
  const router = Router();
  router.post(updateForms, updateBodyParser);
  router.post(responseForms, responseBodyParser);
  router.use(siteFormParser);
  return router;
}

/**
 * The organiser console's pages, one folder per feature. A feature's public pages stay with the
 * feature (server/petitions, server/letters…); what organisers do to it lives here. Mounted by the
 * /admin router once login, CSRF and the viewers' read-only rule have run.
 */
export function consoleRoutes(deps: {
  admin: AdminServices;
  petitions: PetitionsService;
  config: Config;
  render: AdminRender;
  i18n: i18n;
  /** Delivery controls (resume after a pause), when the app sends mail. */
  sender?: OutboxSender;
  /** Held letters to release or drop, when the app has letters. */
  letters?: LettersService;
  /** Campaign updates to write and send. */
  updates?: UpdatesService;
  /** Hand-in packs to download and record, when the app has them. */
  packs?: PacksService;
  /** The delegations' answers to record, when the app has them. */
  responses?: Responses;
}): Router {
  const { admin, petitions, config, render } = deps;
  const router = Router();
  const common = { audit: admin.audit, render };
  router.use(dashboardRoutes({ dashboard: admin.dashboard, render }));
  router.use(
    petitionAdminRoutes({
      ...common,
      petitionAdmin: admin.petitionAdmin,
      dashboard: admin.dashboard,
      targets: admin.targets,
    }),
  );
  router.use(embedConsoleRoutes({ render, petitionAdmin: admin.petitionAdmin, baseUrl: config.baseUrl }));
  router.use(targetsRoutes({ ...common, targets: admin.targets, petitions }));
  router.use(
    signatureAdminRoutes({
      ...common,
      signatureAdmin: admin.signatureAdmin,
      erasure: admin.erasure,
      retention: admin.retention,
      dashboard: admin.dashboard,
      retentionDays: config.retention.daysAfterClose,
      mailRetentionDays: config.retention.mailDays,
      letterRetentionDays: config.retention.letterDays,
    }),
  );
  router.use(exportRoutes({ ...common, exports: admin.exports, petitions, dashboard: admin.dashboard }));
  router.use(accountsRoutes({ ...common, accounts: admin.accounts, i18n: deps.i18n }));
  if (deps.sender) router.use(deliveryAdminRoutes({ ...common, sender: deps.sender }));
  if (deps.letters) router.use(lettersAdminRoutes({ ...common, letters: deps.letters }));
  if (deps.updates) {
    const { responses } = deps;
    const prefill = responses
      ? async (id: number) => {
          const row = await responses.find(id, 'en');
          return row && tellTheSignersDraft(row, { i18n: deps.i18n, baseUrl: config.baseUrl });
        }
      : undefined;
    router.use(updatesRoutes({ ...common, updates: deps.updates, petitions, prefill }));
  }
  if (deps.packs) router.use(packsRoutes({ ...common, packs: deps.packs }));
  if (deps.responses) {
    router.use(responsesRoutes({ ...common, responses: deps.responses }));
  }
  return router;
}
