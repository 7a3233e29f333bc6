import { createAdminServices } from './admin/adminServices';
import type { Config } from './config';
import { seed } from './campaign/seed';
import type { Database } from './db/database';
import { openStore } from './db/open';
import { createGroupWriter } from './db/groupWriter';
import { createI18n } from './i18n/i18n';
import { loadLetterTemplates } from './letters/letterTemplates';
import { createLettersService } from './letters/lettersService';
import type { Logger } from './logger';
import crypto from 'node:crypto';
import { registerDeliveryDashboard } from './console/delivery/deliveryAdmin';
import {
  registerLettersDashboard,
  registerLettersErasure,
  registerLettersRetention,
} from './console/letters/lettersAdmin';
import { registerRepliesDashboard } from './console/letters/repliesAdmin';
import { createUpdatesService } from './updates/updatesService';
import { createDeliveryService } from './delivery/deliveryService';
import { createPacksService } from './packs/packsService';
import type { RenderPackPdf } from './packs/packPdfRenderer';
import { createDeliveryRecord } from './deliveries/deliveryRecord';
import { createResponses } from './responses/responses';
import { createMailTransport, type MailTransport } from './mail/mailer';
import { createMailRenderer } from './mail/mailRenderer';
import { createOutbox } from './mail/outbox';
import { OutboxSender } from './mail/outboxSender';
import { petitionsRepository } from './petitions/petitionsRepository';
import { createPetitionsService } from './petitions/petitionsService';
import { createSignaturesService } from './signatures/signaturesService';
import { targetsRepository } from './targets/targetsRepository';
import { createViews } from './views/views';
import { createMetrics } from './ops/metrics';
import { opsRepository } from './ops/opsRepository';
import { createReadiness } from './ops/readiness';
import { databaseRateLimiter } from './security/rateLimiter';

export type Services = Awaited<ReturnType<typeof createServices>>;

/** How often the background step looks for petitions past their closing time. */
const closingIntervalMs = 30_000;

/**
 * Builds everything from a configuration: the database (migrated and seeded), the mail transport,
 * the outbox and its sender, and the feature services. The server, the CLIs and the tests all start
 * here, each with its own database file and mail server.
 */
export async function createServices(
  config: Config,
  logger: Logger,
  options: {
    /** A SQLite connection to use (tests trace its statements); otherwise config says what to open. */
    db?: Database;
    transport?: MailTransport;
    /** The one clock every service reads the time from (tests pass their own to let time pass). */
    clock?: () => number;
    /** The hand-in packs' PDF renderer (default: server/packs/packPdf.ts, loaded when first needed). */
    renderPackPdf?: RenderPackPdf;
  } = {},
) {
  const clock = options.clock ?? Date.now;
  // PostgreSQL when DATABASE_URL is set, else the SQLite file at DATABASE_PATH.
  const { store, sqlite } = await openStore(config, {
    db: options.db,
    onIdleError: (error) => logger.warn({ err: error }, 'PostgreSQL closed an idle connection'),
  });
  try {
    await seed(store, undefined, clock());
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  const i18n = createI18n();
  const views = createViews(i18n);
  // Group commit for the hot paths' writes (signatures, letters), on the store.
  const writer = createGroupWriter(store);
  const outbox = createOutbox(config.mailFrom, clock);
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
  const updates = createUpdatesService({
    store,
    outbox,
    views,
    i18n,
    settings: {
      baseUrl: config.baseUrl,
      secret: config.secret,
      mailFrom: config.mailFrom,
      perMinute: config.updates.perMinute,
    },
    clock,
  });
  const transport = options.transport ?? createMailTransport(config);
  const ops = opsRepository(store);
  const sender = new OutboxSender({
    store,
    transport,
    render: createMailRenderer(views, i18n, config.mailFrom, config.baseUrl, {
      digest: delivery.renderDigest,
      update: updates.renderMail,
    }),
    settings: config.outbox,
    logger,
    relayId: config.smtpUrl ? crypto.createHash('sha256').update(config.smtpUrl).digest('hex').slice(0, 16) : undefined,
    clock,
  });
  sender.on('digest', delivery.hook);
  // Mail queued by a committed group goes out at once rather than at the next poll.
  writer.onCommit(() => sender.wake());
  // Deliveries change when a digest is sent or a pack recorded, maybe by another process (the worker):
  // cached pages are read again at least every COUNT_REFRESH_SECONDS, on one process too.
  const deliveryRecord = createDeliveryRecord({ store });
  const publicMaxAgeSeconds = config.countRefreshSeconds;
  // The delegations' answers: a change here drops this process's pages at once; another process's
  // pages follow within COUNT_REFRESH_SECONDS, like deliveries.
  const responses = createResponses({ store, clock, onChange: () => petitions.invalidate() });
  const petitions = createPetitionsService(petitionsRepo, {
    clock,
    maxAgeMs: publicMaxAgeSeconds * 1000,
    deliveries: deliveryRecord.forPetition,
    responses: responses.forPetition,
  });
  const signatures = createSignaturesService({
    store,
    group: writer,
    outbox,
    config,
    onValidated: () => petitions.invalidate(),
    // Several processes sign at once: their rate windows must add up, so they are kept in the database.
    rateLimiter: config.shared ? databaseRateLimiter('sign', config.signing.rateLimits) : undefined,
    clock,
  });
  const targets = targetsRepository(store);
  const letters = createLettersService({
    store,
    group: writer,
    outbox,
    templates: loadLetterTemplates(),
    i18n,
    config,
    logger,
    rateLimiter: config.shared ? databaseRateLimiter('letters', config.letters.rateLimits) : undefined,
    clock,
  });
  // Hand-in packs: the postal batches the planner makes due, printed and recorded as handed in.
  const packs = createPacksService({
    store,
    petitions: petitionsRepo,
    outbox,
    config,
    clock,
    renderPdf: options.renderPackPdf,
    letters,
    // The public delivery record changed: this process's cached pages show it at once.
    onChange: () => petitions.invalidate(),
  });
  // A letter becomes sent in the very transaction that records the relay's acceptance; letter mail
  // refers to the letter's text, loaded when it is sent.
  for (const [kind, hook] of Object.entries(letters.outboxHooks)) sender.on(kind, hook);
  const admin = createAdminServices({ store, config, petitions, logger, clock });
  registerDeliveryDashboard(admin.dashboard, delivery, sender);
  registerLettersDashboard(admin.dashboard, letters, petitionsRepo);
  registerRepliesDashboard(admin.dashboard, letters, petitionsRepo);
  // An erasure request reaches the person's letters too (delivery's batch rows go with their signatures).
  registerLettersErasure(admin.erasure);
  registerLettersRetention(admin.retention, config.retention.letterDays);
  let deliveryTimer: NodeJS.Timeout | undefined;
  let updatesTimer: NodeJS.Timeout | undefined;
  let closingTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  let planning: Promise<void> | undefined;
  let writingUpdates: Promise<void> | undefined;
  const services = {
    config,
    logger,
    clock,
    store,
    readiness: createReadiness({
      repo: ops,
      transport,
      capture: !config.smtpUrl,
      writeFailure: () => store.writeFailure?.(),
    }),
    metrics: createMetrics(ops, options.clock),
    i18n,
    views,
    outbox,
    sender,
    petitions,
    signatures,
    deliveryRecord,
    responses,
    publicMaxAgeSeconds,
    admin,
    delivery,
    packs,
    /**
     * Starts the background work: the outbox sender, retention, the letters' sweep, and the digest
     * scheduler (in the server unless DELIVERY_IN_SERVER=false; always in `npm run worker`).
     */
    startBackground(options: { delivery?: boolean } = {}): void {
      sender.start();
      admin.retention.start();
      letters.startSweep();
      // Campaign updates being sent: the rest of their audience is written to the outbox in chunks.
      updatesTimer = setInterval(() => {
        writingUpdates ??= updates
          .advance()
          .then((chunks) => (chunks > 0 ? sender.wake() : undefined))
          .catch((error: unknown) => logger.error({ err: error }, 'writing campaign updates failed'))
          .finally(() => (writingUpdates = undefined));
      }, 2_000);
      updatesTimer.unref();
      // Petitions past their closing time are written down as closed (readers already see them
      // closed): one UPDATE, so any number of processes may run it.
      const closeDue = () => {
        closing ??= petitions
          .closeDue()
          .then((slugs) =>
            slugs.length > 0 ? logger.info({ petitions: slugs }, 'petitions closed at their closing time') : undefined,
          )
          .catch((error: unknown) => logger.error({ err: error }, 'closing petitions failed'))
          .finally(() => (closing = undefined));
      };
      closeDue();
      closingTimer = setInterval(closeDue, closingIntervalMs);
      closingTimer.unref();
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
    updates,
    /**
     * Stops the background work, commits the writes still queued for the group commit (their
     * callers are answered), stops the outbox sender (the mail in hand is recorded, the rest of
     * what it claimed goes back to the queue), then closes the database.
     */
    async close(): Promise<void> {
      if (deliveryTimer) clearInterval(deliveryTimer);
      if (updatesTimer) clearInterval(updatesTimer);
      if (closingTimer) clearInterval(closingTimer);
      letters.stopSweep();
      // The sender claims nothing more from here (a commit below would otherwise wake it).
      const senderStopped = sender.stop();
      await planning; // its digests wait in the outbox for the next run
      await writingUpdates; // the rest of an update is written by the next run
      await closing;
      const written = await writer.close();
      if (written > 0) logger.info({ written }, 'group commit: the writes still queued are committed');
      await senderStopped;
      admin.close();
      await store.close();
      logger.info('database closed');
    },
  };
  // The SQLite connection under the store, for tests and the SQLite backup; none on PostgreSQL. Not
  // enumerable, so that spreading the services (into routers' deps) does not touch it.
  return Object.defineProperty(services, 'db', {
    enumerable: false,
    get(): Database {
      if (!sqlite) throw new Error('services.db is the SQLite connection: on PostgreSQL, use services.store');
      return sqlite;
    },
  }) as typeof services & { readonly db: Database };
}
