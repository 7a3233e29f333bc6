import type { i18n } from 'i18next';
import { displayCountry } from '../campaign/countries';
import type { Config } from '../config';
import type { Database } from '../db/database';
import type { GroupCommit } from '../db/groupCommit';
import type { Lang } from '../i18n/i18n';
import type { Logger } from '../logger';
import type { Outbox } from '../mail/outbox';
import { UnsendableMail } from '../mail/mailer';
import type { OutboxHookNow as OutboxHook } from '../mail/outboxSender';
import { greetingName } from '../security/nameRules';
import { hashIp, signToken, tokenId, verifyToken } from '../security/tokens';
import { canonicalEmail, EmailList, IpRanges, RateWindow, rateKey } from '../signatures/rules';
import type { Target, TargetsRepository } from '../targets/targetsRepository';
import type { LetterFormValues } from './letterForm';
import { IllegalTransitionError, transition, type LetterState } from './letterStates';
import type { LetterTemplates } from './letterTemplates';
import type { Demand, Letter, LetterCountryCount, LettersRepository, NewLetter } from './lettersRepository';
import { mailtoHref } from './mailto';
import { bands, fromBlob, jaccard, ownContribution, toBlob } from './similarity';

const day = 24 * 60 * 60 * 1000;
/** Near-duplicates are looked for among the letters of the last 7 days. */
const similarityWindow = 7 * day;
/**
 * Letter mails (links to confirm or send, reminders) to one canonical address per UTC day, whatever
 * the demand and delegation: beyond it a letter is answered as usual and nothing is mailed, so that
 * nobody can have the platform mail-bomb an address (5 demands × 32 delegations × 5 mails otherwise).
 */
const maxMailsPerAddress = 10;

// English names that take "the" in running text ("I ask the Netherlands to…").
const withArticle: Record<string, string> = {
  GB: 'the United Kingdom',
  NL: 'the Netherlands',
  US: 'the United States',
};

/** A held letter cannot be released while its target has no email address. */
export class NoAddressError extends Error {
  constructor(readonly target: string) {
    super(`${target} has no email address`);
    this.name = 'NoAddressError';
  }
}

/**
 * What writing a letter comes to. Every letter that is written is answered alike, whatever its
 * address wrote before: the supporter is told to check their email (SECURITY 17).
 */
export type SubmitOutcome =
  /** The letter has nothing of the supporter's own left in it. */
  | { kind: 'invalid'; error: string }
  /**
   * A confirmation, the link to send it oneself (to a target without an address), a reminder of the
   * letter already written that day, or, for flagged attempts and over the cap, nothing.
   */
  | { kind: 'check-email' };

export type LinkStatus =
  | { status: 'unknown' }
  | { status: 'expired' }
  | { status: 'pending'; letter: Letter }
  | { status: 'done'; statusToken: string };

export interface LetterPage {
  letter: Letter;
  /** The letter's full text, as it was sent or is to be sent. */
  body: string;
  demand: Demand;
  target: Target;
  subject: string;
  /** The status link the page was opened with: only ever mailed to the writer's address. */
  statusToken: string;
  /** For a letter the supporter sends: their mail program, with subject and body filled in. */
  mailto: string | null;
}

export interface DemandLetters {
  demand: Demand;
  counts: LetterCountryCount[];
  sent: number;
  selfSent: number;
}

export interface Draft {
  target: Target;
  others: Target[];
  lang: Lang;
  subject: string;
  text: string;
}

export interface LettersServiceDeps {
  db: Database;
  group: GroupCommit;
  repo: LettersRepository;
  targets: TargetsRepository;
  outbox: Outbox;
  templates: LetterTemplates;
  i18n: i18n;
  config: Pick<Config, 'secret' | 'baseUrl' | 'signing' | 'letters'>;
  logger?: Pick<Logger, 'warn' | 'info'>;
  clock?: () => number;
}

export type LettersService = ReturnType<typeof createLettersService>;

export function createLettersService(deps: LettersServiceDeps) {
  const { repo, targets, outbox, templates, i18n, config, group, db } = deps;
  const clock = deps.clock ?? Date.now;
  const rules = config.letters;
  const ttl = rules.pendingTtlDays * day;
  const rate = new RateWindow(rules.rateLimits);
  const allowedIps = new IpRanges(config.signing.allowedIpRanges);
  const blockedIps = new IpRanges(config.signing.blockedIpRanges);
  const allowedDomains = new EmailList(config.signing.allowedEmailDomains, config.signing.allowedEmails);
  const blockedDomains = new EmailList(config.signing.blockedEmailDomains, config.signing.blockedEmails);
  let sweepTimer: NodeJS.Timeout | undefined;

  const confirmToken = (l: Pick<Letter, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'letter-confirm', l.id, l.createdAt);
  const statusToken = (l: Pick<Letter, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'letter-status', l.id, l.createdAt);
  const statusUrl = (l: Pick<Letter, 'id' | 'createdAt'>) => `${config.baseUrl}/letters/${statusToken(l)}`;

  let countryCache: { codes: Set<string>; byLang: Map<Lang, Array<{ code: string; name: string }>> } | undefined;
  function countryData() {
    if (!countryCache) {
      const codes = targets.defaults().map((t) => t.country);
      const byLang = new Map<Lang, Array<{ code: string; name: string }>>();
      for (const lang of ['en', 'fr'] as const) {
        const collator = new Intl.Collator(lang);
        byLang.set(
          lang,
          codes
            .map((code) => ({ code, name: displayCountry(code, lang) }))
            .sort((a, b) => collator.compare(a.name, b.name)),
        );
      }
      countryCache = { codes: new Set(codes), byLang };
    }
    return countryCache;
  }

  function countryInLetter(code: string, lang: Lang): string {
    return (lang === 'en' && withArticle[code]) || displayCountry(code, lang);
  }

  /** The delegation's language where we ship a letter in it (French for France, Belgium, Canada, Luxembourg). */
  function suggestedLang(target: Target): Lang {
    return target.languages.includes('fr') ? 'fr' : 'en';
  }

  // Every queued mail names its demand: titles are read once a minute, not once a letter.
  const titles = new Map<string, { title: string; at: number }>();
  function demandTitle(demandId: number, lang: Lang): string {
    const key = `${demandId}:${lang}`;
    const now = Date.now();
    let cached = titles.get(key);
    if (!cached || now - cached.at > 60_000) {
      titles.set(key, (cached = { title: repo.demandById(demandId, lang)?.title ?? '', at: now }));
    }
    return cached.title;
  }

  function subjectFor(demandId: number, name: string, lang: Lang): string {
    return i18n.t('letterEmail.letter.subject', {
      demandTitle: demandTitle(demandId, lang),
      name,
      lng: lang,
    }) as string;
  }

  function letterFields(target: Target, values: Pick<LetterFormValues, 'name' | 'town'>, lang: Lang) {
    return {
      target: target.name,
      name: values.name,
      town: values.town,
      country: countryInLetter(target.country, lang),
    };
  }

  /** Resolves the addressee from our own table: the country's default, or another of its targets by id. */
  function resolveTarget(country: string, targetId: string): { target: Target; others: Target[] } | undefined {
    const all = targets.forCountry(country);
    const target = all.find((t) => String(t.id) === targetId) ?? all.find((t) => t.isDefault) ?? all[0];
    return target && { target, others: all.filter((t) => t.id !== target.id) };
  }

  function isExpired(letter: Letter, now: number): boolean {
    return letter.state === 'pending' && now - letter.createdAt > ttl;
  }

  /** Unconfirmed letters older than the limit expire when they are next looked at (and by the sweep). */
  function expireIfDue(letter: Letter, now: number): Letter {
    if (!isExpired(letter, now)) return letter;
    // Someone may have moved it since it was read: then it is whatever they made it.
    if (!repo.move(letter.id, 'pending', transition('pending', 'expired'), now)) return repo.findById(letter.id)!;
    return { ...letter, state: 'expired' };
  }

  function findByToken(purpose: 'letter-confirm' | 'letter-status', token: string): Letter | undefined {
    const id = tokenId(token);
    const letter = id === undefined ? undefined : repo.findById(id);
    if (!letter || !verifyToken(config.secret, purpose, token, letter.createdAt)) return undefined;
    return letter;
  }

  function findToConfirm(token: string): { letter: Letter; print: Uint32Array } | undefined {
    const id = tokenId(token);
    const found = id === undefined ? undefined : repo.findWithFingerprint(id);
    if (!found || !verifyToken(config.secret, 'letter-confirm', token, found.letter.createdAt)) return undefined;
    return found;
  }

  function queueConfirmation(letter: Letter, target: Target) {
    outbox.enqueueNow({
      kind: 'letter_confirmation',
      to: letter.email,
      template: 'letter-confirm',
      locale: letter.locale,
      params: {
        subjectKey: 'letterEmail.confirm.subject',
        name: greetingName(letter.name),
        targetName: target.name,
        demandTitle: demandTitle(letter.demandId, letter.locale),
        confirmUrl: `${config.baseUrl}/letters/${confirmToken(letter)}/confirm`,
        statusUrl: statusUrl(letter),
        expiresInDays: rules.pendingTtlDays,
        letterId: letter.id,
      },
    });
  }

  /** To a supporter sending the letter themselves: the link to say it is sent, and nothing of their text. */
  function queueSelfLink(letter: Letter, target: Target) {
    outbox.enqueueNow({
      kind: 'letter_self',
      to: letter.email,
      template: 'letter-self',
      locale: letter.locale,
      params: {
        subjectKey: 'letterEmail.self.subject',
        name: greetingName(letter.name),
        targetName: target.name,
        demandTitle: demandTitle(letter.demandId, letter.locale),
        statusUrl: statusUrl(letter),
      },
    });
  }

  function queueReminder(letter: Letter, target: Target) {
    outbox.enqueueNow({
      kind: 'letter_again',
      to: letter.email,
      template: 'letter-again',
      locale: letter.locale,
      params: {
        subjectKey: 'letterEmail.again.subject',
        name: greetingName(letter.name),
        targetName: target.name,
        demandTitle: demandTitle(letter.demandId, letter.locale),
        statusUrl: statusUrl(letter),
      },
    });
  }

  /**
   * The letter itself: From the platform (so it passes DMARC), Reply-To the supporter, To the target's
   * address read from the targets table at this moment. A copy to the supporter when they asked.
   */
  function queueDelivery(letter: Letter, target: Target & { email: string }) {
    outbox.enqueueNow({
      kind: 'letter',
      to: target.email,
      template: 'letter',
      locale: letter.lang,
      params: {
        subjectKey: 'letterEmail.letter.subject',
        footerKey: 'letterEmail.letter.footer',
        letterId: letter.id,
        replyTo: letter.email,
        name: letter.name,
        demandTitle: demandTitle(letter.demandId, letter.lang),
      },
    });
    if (letter.copyRequested) {
      outbox.enqueueNow({
        kind: 'letter_copy',
        to: letter.email,
        template: 'letter-copy',
        locale: letter.locale,
        params: {
          subjectKey: 'letterEmail.copy.subject',
          name: letter.name,
          targetName: target.name,
          demandTitle: demandTitle(letter.demandId, letter.locale),
          letterId: letter.id,
          statusUrl: statusUrl(letter),
        },
      });
    }
  }

  /** How many other people (distinct canonical emails) sent near-identical words on this demand lately. */
  function similarOthers(letter: Letter, print: Uint32Array, now: number): number {
    const keys = bands(print);
    if (keys.length === 0) return 0;
    const people = new Set<string>();
    for (const c of repo.similarCandidates({
      demandId: letter.demandId,
      keys,
      since: now - similarityWindow,
      excludeId: letter.id,
    })) {
      if (c.emailCanonical === letter.emailCanonical || people.has(c.emailCanonical)) continue;
      if (jaccard(print, fromBlob(c.fingerprint)) >= rules.similarity) people.add(c.emailCanonical);
    }
    return people.size;
  }

  /**
   * ready (and queued), or held: the decision made when a letter is confirmed or released. For a
   * confirmation, `similar` is the near-duplicate count, read before the write transaction.
   */
  function dispatch(letter: Letter, from: 'pending' | 'held', now: number, similar = 0): LetterState {
    const target = targets.findById(letter.targetId);
    if (!target?.email) {
      // The address was removed after the letter was written: an organiser has to look at it.
      if (from === 'held') throw new NoAddressError(target?.name ?? String(letter.targetId));
      return moveOr(letter, from, 'held', now, 'no_address');
    }
    if (from === 'pending' && similar >= rules.holdThreshold) return moveOr(letter, from, 'held', now, 'similar');
    // The moves are compare-and-set: if someone moved the letter first, it is left as they made it.
    const state = moveOr(letter, from, 'ready', now);
    if (state !== 'ready') return state;
    queueDelivery(letter, { ...target, email: target.email });
    return 'ready';
  }

  function moveOr(letter: Letter, from: LetterState, to: LetterState, now: number, reason?: string): LetterState {
    return repo.move(letter.id, from, transition(from, to), now, reason) ? to : repo.findById(letter.id)!.state;
  }

  /** A letter mail's text, read when it is sent. A letter's text never changes once written. */
  function letterText(row: { params: Record<string, unknown> }): { letterText: string } {
    const body = repo.bodyOf(Number(row.params.letterId));
    if (body === undefined) throw new Error(`letter ${String(row.params.letterId)} not found`);
    return { letterText: body };
  }

  /** Expires every pending letter past its 7 days, and forgets similarity bands older than the window. */
  function expireStale(): number {
    const now = clock();
    transition('pending', 'expired'); // the one move the sweep makes, checked against the table
    return db.transaction(() => {
      repo.pruneBands(now - similarityWindow);
      return repo.expirePending(now - ttl, now);
    })();
  }

  function flagged(email: string, ip: string | undefined, key: string, now: number): boolean {
    if (blockedIps.has(ip) || blockedDomains.has(email)) return true;
    if (allowedIps.has(ip) || allowedDomains.has(email)) return false;
    return rate.hit(key, now);
  }

  return {
    confirmToken,
    statusToken,
    suggestedLang,
    pendingTtlDays: rules.pendingTtlDays,

    demand: (slug: string, lang: Lang) => repo.demand(slug, lang),

    /** The member states with a delegation, sorted in the reader's language. */
    countries(lang: Lang): Array<{ code: string; name: string }> {
      return countryData().byLang.get(lang)!;
    },

    countryCodes(): ReadonlySet<string> {
      return countryData().codes;
    },

    /** The countries whose delegation gets a letter in French by default, named in the reader's language. */
    frenchCountries(lang: Lang): string {
      const names = targets
        .defaults()
        .filter((t) => suggestedLang(t) === 'fr')
        .map((t) => displayCountry(t.country, lang))
        .sort(new Intl.Collator(lang).compare);
      // British English, as elsewhere on the site: no comma before "and".
      return new Intl.ListFormat(lang === 'en' ? 'en-GB' : lang, { type: 'conjunction' }).format(names);
    },

    resolveTarget,

    /** A target by the id a page was given, for its wording. */
    target(id: string): Target | undefined {
      return /^\d{1,9}$/.test(id) ? targets.findById(Number(id)) : undefined;
    },

    /** The letter as generated from the demand's template, before the supporter edits it. */
    draft(demand: Demand, values: LetterFormValues): Draft | undefined {
      const resolved = resolveTarget(values.country, values.target);
      if (!resolved) return undefined;
      const { target, others } = resolved;
      const lang = values.lang === 'auto' ? suggestedLang(target) : values.lang;
      const text = templates.render(demand.slug, lang, {
        ...letterFields(target, values, lang),
        ownWords: values.ownWords,
      });
      return { target, others, lang, subject: subjectFor(demand.id, values.name, lang), text };
    },

    /**
     * Records a letter as the supporter left it and mails its link: to a target with an address, a
     * link to confirm it; without one, a link to the letter to send themselves. Either way the answer
     * is the same, and nothing in it tells a stranger whether an address wrote before (SECURITY 17).
     *
     * One letter per canonical email per target per demand per day. Written again while still
     * unconfirmed, it is replaced by the new version, whose link alone works: someone else writing
     * with an address first does not keep its owner from writing that day. Once confirmed (which
     * takes the owner's mailbox), trying again mails a reminder with its link. At most 5 mails a
     * letter, and 10 letter mails an address a day: over either, the letter is still replaced (or
     * written) and answered alike, and nothing is mailed.
     */
    async submit(
      demand: Demand,
      values: LetterFormValues,
      body: string | undefined,
      ip: string | undefined,
      locale: Lang,
    ): Promise<SubmitOutcome> {
      const now = clock();
      const resolved = resolveTarget(values.country, values.target);
      if (!resolved) throw new Error(`no target for ${values.country}`);
      const { target } = resolved;
      const lang = values.lang === 'auto' ? suggestedLang(target) : values.lang;
      const fields = letterFields(target, values, lang);
      const generated = templates.render(demand.slug, lang, { ...fields, ownWords: values.ownWords });
      const text = body ?? generated;
      const own = ownContribution(
        text,
        generated,
        templates.render(demand.slug, lang, { ...fields, ownWords: '' }),
        values.ownWords,
      );
      if (own.length === 0) return { kind: 'invalid', error: 'letters.errors.bodyNoOwnWords' };

      const ipHash = ip ? hashIp(config.secret, ip) : null;
      // Flagged attempts (blocked lists, over the per-IP limit) look the same and leave nothing behind.
      if (flagged(values.email, ip, rateKey(config.secret, ip, demand.id), now)) {
        deps.logger?.info({ demand: demand.slug }, 'letter attempt flagged');
        return { kind: 'check-email' };
      }
      const delivery = target.email ? 'email' : 'self';
      const emailCanonical = canonicalEmail(values.email);
      const today = new Date(now).toISOString().slice(0, 10);
      const letter: NewLetter = {
        demandId: demand.id,
        targetId: target.id,
        country: target.country,
        delivery,
        name: values.name,
        email: values.email,
        emailCanonical,
        town: values.town || null,
        ownWords: values.ownWords,
        body: text,
        lang,
        locale,
        copyRequested: values.copy,
        fingerprint: toBlob(own),
        ipHash,
        day: today,
        now,
      };
      /** The link for the letter as it now is: to confirm it, or to send it oneself. */
      const mailLink = (id: number) => {
        const written = repo.findById(id)!;
        if (written.delivery === 'self') queueSelfLink(written, target);
        else queueConfirmation(written, target);
      };
      try {
        await group.run(() => {
          // One address gets at most so many letter mails a day, whatever the demand and delegation;
          // read on every path, so that its cost tells nothing either.
          const addressMailable = repo.mailsToAddress(emailCanonical, today) < maxMailsPerAddress;
          const existing = repo.findSameDay(demand.id, target.id, emailCanonical, today);
          if (!existing) {
            const id = repo.insert(letter, bands(own), addressMailable ? 1 : 0);
            if (addressMailable) mailLink(id);
            return;
          }
          const mailable = addressMailable && existing.mailsSent < rules.maxMailsPerLetter;
          // Still unconfirmed, it becomes the new version even over the caps, and every link mailed
          // before stops working: nothing a stranger wrote with this address can then be confirmed
          // from its mailbox, though over the caps its owner gets no link until the next day.
          const pending = existing.state === 'pending' && !isExpired(existing, now);
          if (pending && repo.rewrite(existing.id, letter, bands(own), mailable)) {
            if (mailable) mailLink(existing.id);
            return;
          }
          // Over the caps nothing is mailed, but the answer takes a write like any other: no timing tells.
          if (!mailable) return repo.touch(existing.id, now);
          queueReminder(existing, target);
          repo.countMailSent(existing.id);
        });
      } catch (error) {
        // Another process wrote the same letter in the same instant: the unique index kept one.
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      }
      return { kind: 'check-email' };
    },

    /** What a confirmation link points at, changing nothing but a due expiry (a GET never sends). */
    linkStatus(token: string): LinkStatus {
      const found = findByToken('letter-confirm', token);
      if (!found) return { status: 'unknown' };
      const letter = db.transaction(() => expireIfDue(found, clock()))();
      if (letter.state === 'expired') return { status: 'expired' };
      if (letter.state === 'pending' && letter.delivery === 'email') return { status: 'pending', letter };
      return { status: 'done', statusToken: statusToken(letter) };
    },

    /**
     * pending → ready with the letter queued in the outbox, in one transaction (shared with the other
     * confirmations of the same moment) — or held when its words are near-duplicates of many others.
     * A replay, or a wrong or expired token, sends nothing.
     */
    async confirm(token: string): Promise<LinkStatus> {
      const { letter: found, print } = findToConfirm(token) ?? {};
      if (!found || !print) return { status: 'unknown' };
      const confirmable = found.state === 'pending' && found.delivery === 'email' && !isExpired(found, clock());
      // Reading the near-duplicates needs no write lock: done before the transaction, it keeps the
      // shared group commit short. The moves below are compare-and-set, so a concurrent confirmation
      // of the same letter finds it no longer pending and queues nothing.
      const similar = confirmable ? similarOthers(found, print, clock()) : 0;
      return group.run((): LinkStatus => {
        const now = clock();
        // Written again since the link was checked: it confirms the version it was mailed for, or nothing.
        if (repo.findById(found.id)?.createdAt !== found.createdAt) return { status: 'unknown' };
        const letter = expireIfDue(found, now);
        if (letter.state === 'expired') return { status: 'expired' };
        if (letter.state === 'pending' && letter.delivery === 'email') dispatch(letter, 'pending', now, similar);
        return { status: 'done', statusToken: statusToken(letter) };
      });
    },

    /** The letter's own page: its state, its text, and for a self-sent letter the ways to send it. */
    page(token: string, lang: Lang): LetterPage | undefined {
      const found = findByToken('letter-status', token);
      if (!found) return undefined;
      const letter = db.transaction(() => expireIfDue(found, clock()))();
      const target = targets.findById(letter.targetId)!;
      const subject = subjectFor(letter.demandId, letter.name, letter.lang);
      const body = repo.bodyOf(letter.id) ?? '';
      return {
        letter,
        body,
        demand: repo.demandById(letter.demandId, lang)!,
        target,
        subject,
        statusToken: token,
        mailto: letter.delivery === 'self' ? mailtoHref({ subject, body }) : null,
      };
    },

    /**
     * The supporter says they sent it themselves: pending → self_sent, counted apart from delivered
     * letters. Only with the status link mailed to them: opening it shows the address is theirs, or
     * anyone could inflate the public count of letters sent with made-up addresses.
     */
    markSelfSent(token: string): boolean {
      const found = findByToken('letter-status', token);
      if (!found || found.delivery !== 'self') return false;
      return db.transaction(() => {
        const now = clock();
        const current = repo.findById(found.id);
        // Written again since the link was checked: that link is for a version that is no more.
        if (current?.createdAt !== found.createdAt) return false;
        const letter = expireIfDue(current, now);
        if (letter.state !== 'pending') return letter.state === 'self_sent';
        if (!repo.move(letter.id, 'pending', transition('pending', 'self_sent'), now)) return false;
        repo.countSent(letter.demandId, letter.country, 'self_sent');
        return true;
      })();
    },

    /**
     * What the outbox sender calls for letter mail: the text, loaded by id when the mail is sent (the
     * rows stay small), and for the letter itself, its settling — in the sender's transaction.
     */
    outboxHooks: {
      letter: {
        params: letterText,
        // The target's address as it is now: a corrected address is used; a removed one holds the letter.
        recipient: (row) => repo.targetEmailOf(Number(row.params.letterId)),
        sent(row, now) {
          const id = Number(row.params.letterId);
          const letter = repo.stateOf(id);
          // A duplicate send after a crash finds the letter already sent: nothing to do.
          if (!letter || letter.state !== 'ready') return;
          if (repo.move(id, 'ready', transition('ready', 'sent'), now)) {
            repo.countSent(letter.demandId, letter.country, 'sent');
          }
        },
        failed(row, _state, error, cause) {
          const id = Number(row.params.letterId);
          if (repo.stateOf(id)?.state !== 'ready') return;
          if (cause instanceof UnsendableMail && cause.reason === 'no_address') {
            // Not the supporter's doing: an organiser releases it once the target has an address again.
            repo.move(id, 'ready', transition('ready', 'held'), clock(), 'no_address');
            deps.logger?.warn({ letterId: id }, 'letter held: its target has no address any more');
            return;
          }
          repo.move(id, 'ready', transition('ready', 'failed'), clock());
          deps.logger?.warn({ letterId: id, error }, 'letter not delivered');
        },
      },
      letter_copy: { params: letterText },
      // The confirmation goes to an address nobody has confirmed yet: it carries no text of the
      // sender's, or anyone could have the platform mail 20,000 characters of their choosing to anyone.
    } satisfies Record<string, OutboxHook>,

    /** Letters held for review, oldest first. */
    held: () => repo.held(),

    /** held → ready: queues the letter (and the copy) as a confirmation would. */
    release(id: number): LetterState {
      return db.transaction(() => {
        const letter = repo.findById(id);
        if (!letter) throw new Error(`There is no letter ${id}.`);
        // Releasing is the held → ready move only (a pending letter is released by its owner's Confirm).
        if (letter.state !== 'held') throw new IllegalTransitionError(letter.state, 'ready');
        return dispatch(letter, 'held', clock());
      })();
    },

    /** held → dropped: never sent. */
    drop(id: number): LetterState {
      const letter = repo.findById(id);
      if (!letter) throw new Error(`There is no letter ${id}.`);
      repo.move(id, letter.state, transition(letter.state, 'dropped'), clock());
      return 'dropped';
    },

    expireStale,

    /** Expires what is due now, then every hour (config.letters.sweepMs). */
    startSweep(): void {
      expireStale();
      sweepTimer = setInterval(() => {
        try {
          expireStale();
        } catch (error) {
          deps.logger?.warn({ err: error }, 'letter expiry sweep failed');
        }
      }, rules.sweepMs);
      sweepTimer.unref();
    },

    stopSweep(): void {
      if (sweepTimer) clearInterval(sweepTimer);
    },

    /** Letters so far for a demand, per country, read from the counters (never COUNT(*)). */
    demandLetters(slug: string, lang: Lang): DemandLetters | undefined {
      const demand = repo.demand(slug, lang);
      if (!demand) return undefined;
      const counts = repo.countryCounts(demand.id);
      return {
        demand,
        counts,
        sent: counts.reduce((n, c) => n + c.sent, 0),
        selfSent: counts.reduce((n, c) => n + c.selfSent, 0),
      };
    },
  };
}
