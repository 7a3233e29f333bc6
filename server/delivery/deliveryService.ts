import type { i18n } from 'i18next';
import { displayCountry } from '../campaign/countries';
import type { Executor } from '../db/store';
import type { Lang } from '../i18n/i18n';
import { UnsendableMail, type OutgoingMail } from '../mail/mailer';
import type { Outbox } from '../mail/outbox';
import type { OutboxHook } from '../mail/outboxSender';
import type { OutboxRow } from '../mail/outboxRepository';
import type { PetitionsRepository } from '../petitions/petitionsRepository';
import type { Views } from '../views/views';
import { digestCsv } from './digest';
import { deliveryRepository, type Channel, type DeliveryRepository, type PendingGroup } from './deliveryRepository';

export interface DigestSettings {
  /** A digest goes out once this many new signatures wait for a target… */
  size: number;
  /** …or once the oldest of them has waited this long, whichever comes first. */
  maxWaitMs: number;
  /** The most signatures one digest carries; more make several digests. */
  maxPerDigest: number;
}

export interface PlanResult {
  /** Digests queued (email batches), and the signatures they carry. */
  batches: number;
  signatures: number;
  /** Hand-in packs made due (postal batches), and the signatures and letters they carry. */
  packs: number;
  packSignatures: number;
  packLetters: number;
  /** Signatures waiting for targets that have neither an email nor a postal address: they go once one is set. */
  awaitingAddress: number;
}

/**
 * How a petition × target's signatures travel: by post when the target asks for paper or has no
 * email (and has a postal address), by email when it has one, otherwise not yet.
 */
export function channelOf(group: Pick<PendingGroup, 'targetEmail' | 'targetPostal' | 'forcePost'>): Channel | null {
  const email = Boolean(group.targetEmail?.trim());
  const postal = Boolean(group.targetPostal?.trim());
  if (postal && (group.forcePost || !email)) return 'post';
  return email ? 'email' : null;
}

/** The language a target reads: French where it reads French and not English, else English. */
export function targetLang(languages: string): Lang {
  const list = languages.split(',');
  return list.includes('fr') && !list.includes('en') ? 'fr' : 'en';
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;

export function createDeliveryService(deps: {
  store: Executor;
  petitions: PetitionsRepository;
  outbox: Outbox;
  views: Views;
  i18n: i18n;
  mailFrom: string;
  baseUrl: string;
  settings: DigestSettings;
  clock?: () => number;
}) {
  const { store, outbox, settings } = deps;
  const repo = deliveryRepository(store);
  const clock = deps.clock ?? Date.now;
  // What each digest was rendered with (its checksum and counts), until its send is recorded.
  const rendered = new Map<number, { sha: string; count: number; total: number }>();

  /**
   * Hand-in packs for a petition × target: the same N/T rules and the same target × signature key as
   * digests, at most maxPerDigest signatures a pack; the waiting letters join the first.
   */
  async function planPacks(
    batches: DeliveryRepository,
    group: PendingGroup,
    signatures: number,
    now: number,
    result: PlanResult,
  ): Promise<void> {
    let left = signatures;
    let withLetters = group.letters > 0;
    while (left > 0 || withLetters) {
      const limit = Math.min(left, settings.maxPerDigest);
      const pack = await batches.createPack(group.petitionId, group.targetId, limit, withLetters, now);
      if (!pack) break; // another runner took them meanwhile
      result.packs++;
      result.packSignatures += pack.count;
      result.packLetters += pack.letters;
      left -= settings.maxPerDigest;
      withLetters = false;
    }
  }

  /**
   * Batches the signatures that are due and queues a digest for each batch, all in one transaction.
   * On SQLite it takes the write lock up front (IMMEDIATE): a second runner waits, then finds nothing
   * left to batch. On PostgreSQL two runners may plan at once: the batch_signatures key leaves each
   * signature in one batch per target, whoever commits first (see createBatch).
   */
  const plan = (force: boolean): Promise<PlanResult> =>
    store.transaction(async (tx) => {
      const batches = deliveryRepository(tx);
      const now = clock();
      const result: PlanResult = {
        batches: 0,
        signatures: 0,
        packs: 0,
        packSignatures: 0,
        packLetters: 0,
        awaitingAddress: 0,
      };
      for (const group of await batches.pendingGroups()) {
        const channel = channelOf(group);
        const oldest = Math.min(group.oldestValidatedAt ?? Infinity, group.oldestLetterAt ?? Infinity);
        const due = force || group.count >= settings.size || now - oldest >= settings.maxWaitMs;
        // Post letters travel in packs even once their target has an email (their writers were told
        // so): for such a target the pack holds the letters only, and its signatures go by email below.
        const packable = channel === 'post' || (group.letters > 0 && Boolean(group.targetPostal?.trim()));
        if (due && packable) await planPacks(batches, group, channel === 'post' ? group.count : 0, now, result);
        if (channel === 'post') continue;
        if (channel === null) {
          result.awaitingAddress += group.count;
          continue;
        }
        if (!due || group.count === 0) continue;
        for (let left = group.count; left > 0; left -= settings.maxPerDigest) {
          const limit = Math.min(left, settings.maxPerDigest);
          const batch = await batches.createBatch(group.petitionId, group.targetId, limit, now);
          if (!batch) break; // another runner batched them all meanwhile
          const { batchId, count } = batch;
          const { id: outboxId, messageId } = await outbox.enqueue(tx, {
            kind: 'digest',
            to: group.targetEmail!,
            template: 'digest',
            locale: 'en',
            params: { batchId },
          });
          await batches.sealBatch(batchId, group.petitionId, group.targetId, count, outboxId, messageId);
          result.batches++;
          result.signatures += count;
        }
      }
      return result;
    });

  async function renderDigest(row: OutboxRow): Promise<OutgoingMail> {
    const batchId = row.params.batchId as number;
    const batch = await repo.batch(batchId);
    const target = batch && (await repo.target(batch.targetId));
    if (!batch || !target) throw new Error(`digest ${row.id}: batch ${batchId} is gone`);
    const lang = targetLang(target.languages);
    const petition = await deps.petitions.findById(batch.petitionId, lang);
    if (!petition) throw new Error(`digest ${row.id}: petition ${batch.petitionId} is gone`);
    // Only signatures still valid: one invalidated or erased since it was batched is not passed on.
    const signers = await repo.signers(batchId);
    if (signers.length === 0) {
      throw new UnsendableMail('every signature of this digest was invalidated or erased before it went out', 'empty');
    }
    const { csv, sha256 } = digestCsv(signers, (code) => displayCountry(code, lang));
    const count = signers.length;
    const total = (await repo.sentBefore(batch.petitionId, batch.targetId, batch.id)) + count;
    rendered.set(batchId, { sha: sha256, count, total });
    const country = displayCountry(target.country, lang);
    const context = {
      lang,
      baseUrl: deps.baseUrl,
      target: target.name,
      country,
      petitionTitle: petition.title,
      petitionBody: petition.body,
      petitionUrl: `${deps.baseUrl}/petitions/${petition.slug}`,
      count,
      total,
      sha256,
      filename: `signatures-${petition.slug}-${target.country.toLowerCase()}-${batch.id}.csv`,
    };
    const { html, text } = deps.views.email('digest', context);
    return {
      from: deps.mailFrom,
      to: row.recipient,
      subject: deps.i18n.t('delivery.email.subject', { ...context, lng: lang }) as string,
      html,
      text,
      messageId: row.messageId,
      attachments: [{ filename: context.filename, content: csv, contentType: 'text/csv; charset=utf-8' }],
    };
  }

  /**
   * A batch is sent once the relay accepted its digest, in the transaction that records it (and only
   * by the claim that holds its outbox row: a sender whose lease was taken over changes nothing).
   */
  const hook: OutboxHook = {
    // The target's address as it is now: corrected since the digest was queued, it is used; removed,
    // the digest cannot go, and its signatures wait for an address again (see `failed`).
    async recipient(row) {
      const batch = await repo.batch(row.params.batchId as number);
      const email = batch && (await repo.target(batch.targetId))?.email?.trim();
      return email || null;
    },
    async sent(tx, row, now) {
      const batchId = row.params.batchId as number;
      const done = rendered.get(batchId);
      rendered.delete(batchId);
      const batches = deliveryRepository(tx);
      if (done) await batches.recordRendered(batchId, done);
      await batches.markSent(batchId, now);
    },
    async failed(tx, row, state, _error, cause) {
      const batchId = row.params.batchId as number;
      rendered.delete(batchId);
      const batches = deliveryRepository(tx);
      if (cause instanceof UnsendableMail && cause.reason === 'no_address') await batches.unbatch(batchId);
      else await batches.markFailed(batchId, state);
    },
    // Another claim took the digest over: its own render is the one that will be recorded.
    dropped(row) {
      rendered.delete(row.params.batchId as number);
    },
  };

  return {
    /** Batches what is due (or everything waiting, when forced) and queues the digests. */
    plan: (force = false) => plan(force),
    renderDigest,
    hook,
    status: (limit?: number, petitionId?: number) => repo.status(limit, petitionId ?? null),
    awaitingAddress: (petitionId?: number) => repo.awaitingAddress(petitionId ?? null),
  };
}
