import { createAdminServices } from './admin/adminServices';
import type { Config } from './config';
import { seed } from './campaign/seed';
import { migrate, openDatabase, type Database } from './db/database';
import { GroupCommit } from './db/groupCommit';
import { createGroupWriter } from './db/groupWriter';
import { createI18n } from './i18n/i18n';
import { loadLetterTemplates } from './letters/letterTemplates';
import { lettersRepository } from './letters/lettersRepository';
import { createLettersService } from './letters/lettersService';
import type { Logger } from './logger';
import crypto from 'node:crypto';
import { registerDeliveryDashboard } from './delivery/deliveryAdmin';
import { registerLettersDashboard, registerLettersErasure, registerLettersRetention } from './letters/lettersAdmin';
import { createDeliveryService } from './delivery/deliveryService';
import { createMailTransport, type MailTransport } from './mail/mailer';
import { createMailRenderer } from './mail/mailRenderer';
import { createOutbox } from './mail/outbox';
import { outboxSyncShims } from './mail/outboxRepository';
import { OutboxSender, type OutboxHook, type OutboxHookNow } from './mail/outboxSender';
import { petitionsRepository } from './petitions/petitionsRepository';
import { createPetitionsService } from './petitions/petitionsService';
import { createSignaturesService } from './signatures/signaturesService';
import { targetsRepository } from './targets/targetsRepository';
import { createViews } from './views/views';
import { createSqliteStore } from './db/sqliteStore';
import { createMetrics } from './ops/metrics';
import { opsRepository } from './ops/opsRepository';
import { createReadiness } from './ops/readiness';

export type Services = ReturnType<typeof createServices>;

/**
 * Builds everything from a configuration: the database (migrated and seeded), the mail transport,
 * the outbox and its sender, and the feature services. The server, the CLIs and the tests all start
 * here, each with its own database file and mail server.
 */
export function createServices(
  config: Config,
  logger: Logger,
  options: {
    db?: Database;
    transport?: MailTransport;
    /** The one clock every service reads the time from (tests pass their own to let time pass). */
    clock?: () => number;
  } = {},
) {
  const clock = options.clock ?? Date.now;
  const db = options.db ?? openDatabase(config.databasePath, config.synchronous);
  migrate(db);
  seed(db, undefined, clock());
  const i18n = createI18n();
  const views = createViews(i18n);
  // The new data layer (server/db/store.ts) on the same connection, for the repositories moved to it.
  const store = createSqliteStore(db);
  // Group commit for the hot paths' writes: letters on the connection directly, signatures on the store.
  const group = new GroupCommit(db);
  const writer = createGroupWriter(store);
  // The outbox's synchronous methods, for letters, erasure and retention until they move to the store.
  const outboxShims = outboxSyncShims(db);
  const outbox = createOutbox(outboxShims, config.mailFrom, clock);
  const petitionsRepo = petitionsRepository(store);
  const delivery = createDeliveryService({
    store,
    petitions: petitionsRepo,
    outbox,
    views,
    i18n,
    mailFrom: config.mailFrom,
    baseUrl: config.baseUrl,
    settings: config.delivery,
    clock,
  });
  const transport = options.transport ?? createMailTransport(config);
  const ops = opsRepository(store);
  const sender = new OutboxSender({
    store,
    transport,
    render: createMailRenderer(views, i18n, config.mailFrom, config.baseUrl, { digest: delivery.renderDigest }),
    settings: config.outbox,
    logger,
    relayId: config.smtpUrl ? crypto.createHash('sha256').update(config.smtpUrl).digest('hex').slice(0, 16) : undefined,
    clock,
  });
  sender.on('digest', delivery.hook);
  // Mail queued by a committed group goes out at once rather than at the next poll.
  group.onCommit(() => sender.wake());
  writer.onCommit(() => sender.wake());
  const petitions = createPetitionsService(petitionsRepo, { clock });
  const signatures = createSignaturesService({
    store,
    group: writer,
    outbox,
    config,
    onValidated: () => petitions.invalidate(),
    clock,
  });
  const targets = targetsRepository(db);
  const lettersRepo = lettersRepository(db);
  const letters = createLettersService({
    db,
    group,
    repo: lettersRepo,
    targets,
    outbox,
    templates: loadLetterTemplates(),
    i18n,
    config,
    logger,
    clock,
  });
  // A letter becomes sent in the very transaction that records the relay's acceptance; letter mail
  // refers to the letter's text, loaded when it is sent.
  for (const [kind, hook] of Object.entries(letters.outboxHooks)) sender.on(kind, hookFromNow(hook));
  const admin = createAdminServices({ db, store, config, petitions, logger, outbox: outboxShims, clock });
  registerDeliveryDashboard(admin.dashboard, delivery, sender);
  registerLettersDashboard(admin.dashboard, letters, petitionsRepo);
  // An erasure request reaches the person's letters too (delivery's batch rows go with their signatures).
  registerLettersErasure(admin.erasure, lettersRepo);
  registerLettersRetention(admin.retention, lettersRepo, outboxShims, config.retention.letterDays);
  let deliveryTimer: NodeJS.Timeout | undefined;
  let planning: Promise<void> | undefined;
  return {
    config,
    logger,
    db,
    store,
    readiness: createReadiness({ repo: ops, transport, capture: !config.smtpUrl }),
    metrics: createMetrics(ops, options.clock),
    i18n,
    views,
    group,
    outbox,
    sender,
    petitions,
    signatures,
    admin,
    delivery,
    /**
     * Starts the background work: the outbox sender, retention, the letters' sweep, and the digest
     * scheduler (in the server unless DELIVERY_IN_SERVER=false; always in `npm run worker`).
     */
    startBackground(options: { delivery?: boolean } = {}): void {
      sender.start();
      admin.retention.start();
      letters.startSweep();
      if (!(options.delivery ?? config.delivery.inServer)) return;
      deliveryTimer = setInterval(() => {
        // One pass at a time: a slow one is not joined by the next.
        planning ??= delivery
          .plan()
          .then((planned) => (planned.batches > 0 ? sender.wake() : undefined))
          .catch((error: unknown) => logger.error({ err: error }, 'digest planning failed'))
          .finally(() => (planning = undefined));
      }, config.delivery.intervalMs);
      deliveryTimer.unref();
    },
    targets,
    letters,
    /**
     * Stops the background work, commits the writes still queued for the group commit (their
     * callers are answered), stops the outbox sender (the mail in hand is recorded, the rest of
     * what it claimed goes back to the queue), then closes the database.
     */
    async close(): Promise<void> {
      if (deliveryTimer) clearInterval(deliveryTimer);
      letters.stopSweep();
      // The sender claims nothing more from here (a commit below would otherwise wake it).
      const senderStopped = sender.stop();
      await planning; // its digests wait in the outbox for the next run
      const written = group.close() + (await writer.close());
      if (written > 0) logger.info({ written }, 'group commit: the writes still queued are committed');
      await senderStopped;
      admin.close();
      db.close();
      logger.info('database closed');
    },
  };
}

// until letters move to the store: their hooks are synchronous and write on the SQLite connection,
// which is the store's, so they still run inside the transaction that records the outcome.
function hookFromNow(hook: OutboxHookNow): OutboxHook {
  const { sent, failed, recipient, params, dropped } = hook;
  return {
    ...(sent && { sent: async (_tx, row, now) => sent(row, now) }),
    ...(failed && { failed: async (_tx, row, state, error, cause) => failed(row, state, error, cause) }),
    ...(recipient && { recipient: async (row) => recipient(row) }),
    ...(params && { params: async (row) => params(row) }),
    ...(dropped && { dropped }),
  };
}
