import crypto from 'node:crypto';
import type { i18n } from 'i18next';
import type { Executor } from '../db/store';
import type { Lang } from '../i18n/i18n';
import type { OutgoingMail } from '../mail/mailer';
import { listUnsubscribeHeaders } from '../mail/listUnsubscribe';
import type { Outbox } from '../mail/outbox';
import type { OutboxRow } from '../mail/outboxRepository';
import { petitionsRepository } from '../petitions/petitionsRepository';
import { signToken } from '../security/tokens';
import type { Views } from '../views/views';
import { markdownToHtml, markdownToText } from './markdown';
import { updatesRepository, type CampaignUpdate, type UpdateDraft, type UpdateProgress } from './updatesRepository';

/** Outbox rows written per transaction: small enough that a 100,000-signer update never holds a long one. */
export const UPDATE_CHUNK = 500;

export interface UpdatesSettings {
  baseUrl: string;
  secret: string;
  mailFrom: string;
  /** UPDATES_PER_MINUTE: how many update mails may leave per minute (the rest wait their turn). */
  perMinute: number;
}

export type UpdatesService = ReturnType<typeof createUpdatesService>;

/**
 * Campaign updates: organisers write one (Markdown, English and optionally French), choose its
 * audience, try it on themselves, then send it. Sending writes the outbox in chunks, each in its own
 * transaction, each row due at a time that keeps the flow under UPDATES_PER_MINUTE; a double click
 * or a retried POST finds the update already made (its idempotency key) and sends nothing twice.
 */
export function createUpdatesService(deps: {
  store: Executor;
  outbox: Outbox;
  views: Views;
  i18n: i18n;
  settings: UpdatesSettings;
  clock?: () => number;
}) {
  const { store, outbox, settings } = deps;
  const clock = deps.clock ?? Date.now;
  const repo = updatesRepository(store);

  // The same per-signer token the signing journey's unsubscribe link checks.
  const unsubscribeUrl = (s: { id: number; createdAt: number }) =>
    `${settings.baseUrl}/unsubscribe/${signToken(settings.secret, 'unsubscribe', s.id, s.createdAt)}`;

  const textOf = (u: Pick<UpdateDraft, 'subjectEn' | 'bodyEn' | 'subjectFr' | 'bodyFr'>, lang: Lang) =>
    lang === 'fr' && u.subjectFr.trim() && u.bodyFr.trim()
      ? { subject: u.subjectFr, body: u.bodyFr }
      : { subject: u.subjectEn, body: u.bodyEn };

  /** Subject, HTML and text of one update in one language, with the petition's title for the footer. */
  function renderParts(
    u: Pick<UpdateDraft, 'subjectEn' | 'bodyEn' | 'subjectFr' | 'bodyFr'>,
    lang: Lang,
    extra: { name: string; petitionTitle: string; unsubscribeUrl?: string; test?: boolean },
  ) {
    const { subject, body } = textOf(u, lang);
    const { html, text } = deps.views.email('update', {
      lang,
      baseUrl: settings.baseUrl,
      ...extra,
      ...markdownOf(body),
    });
    return { subject, html, text };
  }

  // The Markdown of an update is the same for all its signers: rendered once per text, not per mail.
  const markdown = new Map<string, { bodyHtml: string; bodyText: string }>();
  function markdownOf(body: string) {
    let done = markdown.get(body);
    if (!done) {
      if (markdown.size >= 20) markdown.clear();
      markdown.set(body, (done = { bodyHtml: markdownToHtml(body), bodyText: markdownToText(body) }));
    }
    return done;
  }

  // Updates and their petition's titles are kept per update × language.
  const updates = new Map<number, { update: CampaignUpdate; titles: Map<Lang, string> }>();
  async function loaded(id: number) {
    let hit = updates.get(id);
    if (!hit) {
      const update = await repo.byId(id);
      if (!update) return undefined;
      if (updates.size > 100) updates.clear();
      updates.set(id, (hit = { update, titles: new Map() }));
    }
    return hit;
  }
  async function petitionTitle(entry: { update: CampaignUpdate; titles: Map<Lang, string> }, lang: Lang) {
    let title = entry.titles.get(lang);
    if (title === undefined) {
      title = (await petitionsRepository(store).findById(entry.update.petitionId, lang))?.title ?? '';
      entry.titles.set(lang, title);
    }
    return title;
  }

  /** Renders an outbox row of an update (or of a test send, whose texts ride in the row). */
  async function renderMail(row: OutboxRow): Promise<OutgoingMail> {
    const lang: Lang = row.locale === 'fr' ? 'fr' : 'en';
    const p = row.params as {
      updateId?: number;
      name: string;
      unsubscribeUrl?: string;
      draft?: Pick<UpdateDraft, 'subjectEn' | 'bodyEn' | 'subjectFr' | 'bodyFr'>;
      petitionTitle?: string;
    };
    let parts: { subject: string; html: string; text: string };
    if (p.draft) {
      parts = renderParts(p.draft, lang, { name: p.name, petitionTitle: p.petitionTitle ?? '', test: true });
    } else {
      const entry = await loaded(p.updateId!);
      if (!entry) throw new Error(`update mail ${row.id}: update ${p.updateId} is gone`);
      parts = renderParts(entry.update, lang, {
        name: p.name,
        petitionTitle: await petitionTitle(entry, lang),
        unsubscribeUrl: p.unsubscribeUrl,
      });
    }
    return {
      from: settings.mailFrom,
      to: row.recipient,
      subject: parts.subject,
      html: parts.html,
      text: parts.text,
      messageId: row.messageId,
      headers: listUnsubscribeHeaders(p.unsubscribeUrl),
    };
  }

  /**
   * Writes the next chunk of an update's audience to the outbox, in one transaction. The cursor is
   * moved only from where this writer read it: a second writer doing the same chunk rolls back.
   * Answers whether more is left to write.
   */
  async function writeChunk(id: number): Promise<boolean> {
    try {
      return await store.transaction(async (tx) => {
        const rows = updatesRepository(tx);
        const update = await rows.byId(id);
        if (!update || update.state !== 'writing') return false;
        const next = await rows.nextRecipients(update.petitionId, update.countries, update.cursor, UPDATE_CHUNK);
        let added = 0;
        for (const s of next) {
          const n = update.recipients + added;
          const { id: outboxId } = await outbox.enqueue(tx, {
            kind: 'campaign_update',
            to: s.email,
            template: 'update',
            locale: s.locale === 'fr' ? 'fr' : 'en',
            notBefore: update.startsAt + Math.floor(n / settings.perMinute) * 60_000,
            params: { updateId: id, signatureId: s.id, name: s.name, unsubscribeUrl: unsubscribeUrl(s) },
          });
          if (await rows.addRecipient(id, s.id, outboxId)) added++;
          else throw new ChunkTaken();
        }
        const cursor = next.at(-1)?.id ?? update.cursor;
        if (next.length > 0 && !(await rows.advance(id, update.cursor, cursor, added))) throw new ChunkTaken();
        if (next.length < UPDATE_CHUNK) {
          await rows.finish(id, cursor, clock());
          return false;
        }
        return true;
      });
    } catch (error) {
      if (error instanceof ChunkTaken) return true; // another writer has it: look again
      throw error;
    }
  }

  return {
    repo,
    renderMail,
    writeChunk,
    audienceCount: (petitionId: number, countries: string[]) => repo.audienceCount(petitionId, countries),
    byId: (id: number) => repo.byId(id),
    ofPetition: (petitionId: number) => repo.ofPetition(petitionId),
    progress: (id: number): Promise<UpdateProgress> => repo.progress(id),
    /** A fresh idempotency key for a composer form. */
    newKey: () => crypto.randomBytes(16).toString('base64url'),

    /** Both languages as the signers will get them (the French one only if it is written). */
    async preview(draft: UpdateDraft, name: string) {
      const title = async (lang: Lang) =>
        (await petitionsRepository(store).findById(draft.petitionId, lang))?.title ?? '';
      const one = async (lang: Lang) =>
        renderParts(draft, lang, {
          name,
          petitionTitle: await title(lang),
          unsubscribeUrl: `${settings.baseUrl}/unsubscribe/…`,
        });
      return { en: await one('en'), fr: draft.subjectFr.trim() ? await one('fr') : undefined };
    },

    /** Sends the draft to the organiser only (each written language), marked as a test. */
    async sendTest(draft: UpdateDraft, to: string, name: string): Promise<number> {
      const langs: Lang[] = draft.subjectFr.trim() ? ['en', 'fr'] : ['en'];
      await store.transaction(async (tx) => {
        for (const lang of langs) {
          const petitionTitle = (await petitionsRepository(tx).findById(draft.petitionId, lang))?.title ?? '';
          await outbox.enqueue(tx, {
            kind: 'campaign_update_test',
            to,
            template: 'update',
            locale: lang,
            params: { name, petitionTitle, draft: { ...draft, countries: undefined } },
          });
        }
      });
      return langs.length;
    },

    /**
     * Makes the update (or finds the one made under `key`) and writes its first chunk. The rest is
     * written by `advance`, from the background timers of whichever process runs them.
     */
    async send(draft: UpdateDraft, key: string, organiserId: number | null): Promise<{ id: number; created: boolean }> {
      const made = await store.transaction((tx) =>
        updatesRepository(tx).create(draft, key, organiserId, clock(), clock()),
      );
      if (made.created) await writeChunk(made.id);
      return made;
    },

    /** Writes what is left of every update being sent, a chunk at a time, for at most `budgetMs`. */
    async advance(budgetMs = 2_000): Promise<number> {
      const started = clock();
      let chunks = 0;
      for (const id of await repo.writing()) {
        while (clock() - started < budgetMs) {
          chunks++;
          if (!(await writeChunk(id))) break;
        }
      }
      return chunks;
    },
  };
}

/** Another writer moved the cursor (or wrote these rows) first: this chunk's transaction is undone. */
class ChunkTaken extends Error {}
