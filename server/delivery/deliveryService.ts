import type { i18n } from 'i18next';
import { displayCountry } from '../campaign/countries';
import type { Database } from '../db/database';
import type { Lang } from '../i18n/i18n';
import { UnsendableMail, type OutgoingMail } from '../mail/mailer';
import type { Outbox } from '../mail/outbox';
import type { OutboxHookNow as OutboxHook } from '../mail/outboxSender';
import type { OutboxRow } from '../mail/outboxRepository';
import type { PetitionsRepository } from '../petitions/petitionsRepository';
import type { Views } from '../views/views';
import { digestCsv } from './digest';
import type { DeliveryRepository } from './deliveryRepository';

export interface DigestSettings {
  /** A digest goes out once this many new signatures wait for a target… */
  size: number;
  /** …or once the oldest of them has waited this long, whichever comes first. */
  maxWaitMs: number;
  /** The most signatures one digest carries; more make several digests. */
  maxPerDigest: number;
}

export interface PlanResult {
  batches: number;
  signatures: number;
  /** Signatures waiting for targets that have no address yet: they go once one is set. */
  awaitingAddress: number;
}

/** The language a target reads: French where it reads French and not English, else English. */
function targetLang(languages: string): Lang {
  const list = languages.split(',');
  return list.includes('fr') && !list.includes('en') ? 'fr' : 'en';
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;

export function createDeliveryService(deps: {
  db: Database;
  repo: DeliveryRepository;
  petitions: PetitionsRepository;
  outbox: Outbox;
  views: Views;
  i18n: i18n;
  mailFrom: string;
  baseUrl: string;
  settings: DigestSettings;
  clock?: () => number;
}) {
  const { db, repo, outbox, settings } = deps;
  const clock = deps.clock ?? Date.now;
  // What each digest was rendered with (its checksum and counts), until its send is recorded.
  const rendered = new Map<number, { sha: string; count: number; total: number }>();

  /**
   * Batches the signatures that are due and queues a digest for each batch, all in one IMMEDIATE
   * transaction: a second runner waits, then finds nothing left to batch.
   */
  const plan = db.transaction((force: boolean): PlanResult => {
    const now = clock();
    const result: PlanResult = { batches: 0, signatures: 0, awaitingAddress: 0 };
    for (const group of repo.pendingGroups()) {
      const ids = group.signatureIds;
      if (!group.targetEmail?.trim()) {
        result.awaitingAddress += ids.length;
        continue;
      }
      const due = force || ids.length >= settings.size || now - group.oldestValidatedAt >= settings.maxWaitMs;
      if (!due) continue;
      for (let from = 0; from < ids.length; from += settings.maxPerDigest) {
        const members = ids.slice(from, from + settings.maxPerDigest);
        const batchId = repo.createBatch(group.petitionId, group.targetId, members, now);
        const { id: outboxId, messageId } = outbox.enqueueNow({
          kind: 'digest',
          to: group.targetEmail,
          template: 'digest',
          locale: 'en',
          params: { batchId },
        });
        repo.sealBatch(batchId, group.petitionId, group.targetId, members.length, outboxId, messageId);
        result.batches++;
        result.signatures += members.length;
      }
    }
    return result;
  });

  async function renderDigest(row: OutboxRow): Promise<OutgoingMail> {
    const batchId = row.params.batchId as number;
    const batch = repo.batch(batchId);
    const target = batch && repo.target(batch.targetId);
    if (!batch || !target) throw new Error(`digest ${row.id}: batch ${batchId} is gone`);
    const lang = targetLang(target.languages);
    const petition = await deps.petitions.findById(batch.petitionId, lang);
    if (!petition) throw new Error(`digest ${row.id}: petition ${batch.petitionId} is gone`);
    // Only signatures still valid: one invalidated or erased since it was batched is not passed on.
    const signers = repo.signers(batchId);
    if (signers.length === 0) {
      throw new UnsendableMail('every signature of this digest was invalidated or erased before it went out', 'empty');
    }
    const { csv, sha256 } = digestCsv(signers, (code) => displayCountry(code, lang));
    const count = signers.length;
    const total = repo.sentBefore(batch.petitionId, batch.targetId, batch.id) + count;
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
    recipient(row) {
      const batch = repo.batch(row.params.batchId as number);
      const email = batch && repo.target(batch.targetId)?.email?.trim();
      return email || null;
    },
    sent(row, now) {
      const batchId = row.params.batchId as number;
      const done = rendered.get(batchId);
      rendered.delete(batchId);
      if (done) repo.recordRendered(batchId, done);
      repo.markSent(batchId, now);
    },
    failed(row, state, _error, cause) {
      const batchId = row.params.batchId as number;
      rendered.delete(batchId);
      if (cause instanceof UnsendableMail && cause.reason === 'no_address') repo.unbatch(batchId);
      else repo.markFailed(batchId, state);
    },
    // Another claim took the digest over: its own render is the one that will be recorded.
    dropped(row) {
      rendered.delete(row.params.batchId as number);
    },
  };

  return {
    /** Batches what is due (or everything waiting, when forced) and queues the digests. */
    plan: (force = false) => plan.immediate(force),
    renderDigest,
    hook,
    status: (limit?: number, petitionId?: number) => repo.status(limit, petitionId ?? null),
    awaitingAddress: (petitionId?: number) => repo.awaitingAddress(petitionId ?? null),
  };
}
