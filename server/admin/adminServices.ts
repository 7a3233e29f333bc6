import type { Config } from '../config';
import type { Store } from '../db/store';
import type { Logger } from '../logger';
import type { PetitionsService } from '../petitions/petitionsService';
import { dashboardRepository } from '../console/dashboard/dashboardRepository';
import { createDashboardService } from '../console/dashboard/dashboardService';
import { createPetitionAdminService } from '../console/petitions/petitionAdminService';
import { createErasure } from '../console/signatures/erasure';
import { createRetention } from '../console/signatures/retention';
import { createSignatureAdminService } from '../console/signatures/signatureAdminService';
import { createTargetsService } from '../console/targets/targetsService';
import { exportRepository } from '../console/exports/exportRepository';
import { createExportService } from '../console/exports/exportService';
import { accountsRepository } from './accountsRepository';
import { createAccountsService } from './accountsService';
import { createAuditLog } from './auditLog';
import { createLoginThrottle } from './loginThrottle';
import { DatabaseSessionStore } from './sessionStore';
import { sessionsRepository } from './sessionsRepository';

export type AdminServices = ReturnType<typeof createAdminServices>;

/** The organiser console's services: accounts, sessions, audit, and what organisers work on. */
export function createAdminServices(deps: {
  store: Store;
  config: Config;
  petitions: PetitionsService;
  logger: Logger;
  /**
   * The time every console service reads. Sessions keep the system clock: express-session dates
   * their cookies by it, and a session's idle and absolute ends must agree.
   */
  clock?: () => number;
}) {
  const { config, petitions, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const audit = createAuditLog(deps.store, clock);
  const sessionStore = new DatabaseSessionStore(sessionsRepository(deps.store));
  const retention = createRetention({
    store: deps.store,
    audit,
    logger,
    daysAfterClose: config.retention.daysAfterClose,
    mailDays: config.retention.mailDays,
    intervalMs: config.retention.intervalMs,
    onChange: () => petitions.invalidate(),
    clock,
  });
  return {
    audit,
    accounts: createAccountsService({ repo: accountsRepository(deps.store), settings: config.admin, clock }),
    loginThrottle: createLoginThrottle(
      { max: config.admin.maxFailedLoginsPerClient, windowMs: config.admin.clientWindowMs },
      clock,
    ),
    sessionStore,
    dashboard: createDashboardService(dashboardRepository(deps.store), clock),
    petitionAdmin: createPetitionAdminService({ store: deps.store, petitions, clock }),
    targets: createTargetsService(deps.store, clock),
    signatureAdmin: createSignatureAdminService({ store: deps.store, petitions, secret: config.secret, clock }),
    erasure: createErasure(deps.store, { onErased: () => petitions.invalidate() }),
    retention,
    // Page by page on the store: see exportRepository.
    exports: createExportService(exportRepository(deps.store)),
    close(): void {
      retention.stop();
      sessionStore.close();
    },
  };
}
