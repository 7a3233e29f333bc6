import { displayCountry } from '../campaign/countries';
import type { Lang } from '../i18n/i18n';
import { hashIp } from '../security/tokens';
import { canonicalEmail, EmailList, IpRanges, rateKey } from '../signatures/rules';
import { memoryRateLimiter } from '../security/rateLimiter';
import type { Target } from '../targets/targetsRepository';
import { channelOf, deliveryFor, type Channel } from './letterChannel';
import type { LettersContext } from './letterContext';
import type { LetterFormValues } from './letterForm';
import type { LetterMail } from './letterMail';
import { addresseeFor } from './salutation';
import { lettersRepository, type Demand, type LettersRepository, type NewLetter } from './lettersRepository';
import { bands, ownContribution, toBlob } from './similarity';
import type { Executor } from '../db/store';

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

/**
 * What writing a letter comes to. Every letter that is written is answered alike, whatever its
 * address wrote before: the supporter is told to check their email (SECURITY 17).
 */
export type SubmitOutcome =
  /** The letter has nothing of the supporter's own left in it. */
  | { kind: 'invalid'; error: string }
  /**
   * A confirmation, the link to send it oneself (when the writer chose to), a reminder of the
   * letter already written that day, or, for flagged attempts and over the cap, nothing.
   */
  | { kind: 'check-email' };

export interface Draft {
  target: Target;
  others: Target[];
  lang: Lang;
  subject: string;
  text: string;
}

/** The delegation's language where we ship a letter in it (French for France, Belgium, Canada, Luxembourg). */
export function suggestedLang(target: Target): Lang {
  return target.languages.includes('fr') ? 'fr' : 'en';
}

/** Two letters written in the same instant: the unique index kept one (SQLite's code, or PostgreSQL's). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

type CountryData = { codes: Set<string>; byLang: Map<Lang, Array<{ code: string; name: string }>> };

/** Writing a letter: the form's choices, the draft, and the letter as the supporter leaves it. */
export function letterDrafting(ctx: LettersContext, mail: LetterMail) {
  const { templates, config, group } = ctx.deps;
  const { targets, rules, clock } = ctx;
  const rate = ctx.deps.rateLimiter ?? memoryRateLimiter(rules.rateLimits);
  const allowedIps = new IpRanges(config.signing.allowedIpRanges);
  const blockedIps = new IpRanges(config.signing.blockedIpRanges);
  const allowedDomains = new EmailList(config.signing.allowedEmailDomains, config.signing.allowedEmails);
  const blockedDomains = new EmailList(config.signing.blockedEmailDomains, config.signing.blockedEmails);

  let countryCache: Promise<CountryData> | undefined;
  function countryData(): Promise<CountryData> {
    countryCache ??= targets.defaults().then((defaults) => {
      const codes = defaults.map((t) => t.country);
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
      return { codes: new Set(codes), byLang };
    });
    // A failed read is not kept: the next page asks again.
    countryCache.catch(() => (countryCache = undefined));
    return countryCache;
  }

  function countryInLetter(code: string, lang: Lang): string {
    return (lang === 'en' && withArticle[code]) || displayCountry(code, lang);
  }

  function letterFields(target: Target, values: Pick<LetterFormValues, 'name' | 'town'>, lang: Lang) {
    return {
      target: target.name,
      addressee: addresseeFor(target.kind, lang),
      name: values.name,
      town: values.town,
      country: countryInLetter(target.country, lang),
    };
  }

  /** Resolves the addressee from our own table: the country's default, or another of its targets by id. */
  async function resolveTarget(
    country: string,
    targetId: string,
  ): Promise<{ target: Target; others: Target[] } | undefined> {
    const all = await targets.forCountry(country);
    const target = all.find((t) => String(t.id) === targetId) ?? all.find((t) => t.isDefault) ?? all[0];
    return target && { target, others: all.filter((t) => t.id !== target.id) };
  }

  async function flagged(email: string, ip: string | undefined, key: string, now: number): Promise<boolean> {
    if (blockedIps.has(ip) || blockedDomains.has(email)) return true;
    if (allowedIps.has(ip) || allowedDomains.has(email)) return false;
    // A flagged attempt leaves no letter behind: its hit is written on its own.
    return rate.hit(ctx.deps.store, key, now);
  }

  /** The link for the letter as it now is: to confirm it (for email or the pack), or to send it oneself. */
  async function mailLink(tx: Executor, repo: LettersRepository, id: number, target: Target): Promise<void> {
    const written = (await repo.findById(id))!;
    if (written.delivery === 'self') await mail.queueSelfLink(tx, repo, written, target);
    else await mail.queueConfirmation(tx, repo, written, target);
  }

  return {
    /** The member states with a delegation, sorted in the reader's language. */
    async countries(lang: Lang): Promise<Array<{ code: string; name: string }>> {
      return (await countryData()).byLang.get(lang)!;
    },

    /**
     * The member states, sorted in the reader's language, each with how its delegation receives
     * letters, read afresh (an organiser may set an address, or paper, at any time).
     */
    async countryChannels(lang: Lang): Promise<Array<{ code: string; name: string; channel: Channel }>> {
      const byCountry = new Map((await targets.defaults()).map((t) => [t.country, channelOf(t)]));
      return (await countryData()).byLang.get(lang)!.map((c) => ({ ...c, channel: byCountry.get(c.code) ?? 'post' }));
    },

    async countryCodes(): Promise<ReadonlySet<string>> {
      return (await countryData()).codes;
    },

    /** The countries whose delegation gets a letter in French by default, named in the reader's language. */
    async frenchCountries(lang: Lang): Promise<string> {
      const names = (await targets.defaults())
        .filter((t) => suggestedLang(t) === 'fr')
        .map((t) => displayCountry(t.country, lang))
        .sort(new Intl.Collator(lang).compare);
      // British English, as elsewhere on the site: no comma before "and".
      return new Intl.ListFormat(lang === 'en' ? 'en-GB' : lang, { type: 'conjunction' }).format(names);
    },

    resolveTarget,

    /** A target by the id a page was given, for its wording. */
    async target(id: string): Promise<Target | undefined> {
      return /^\d{1,9}$/.test(id) ? targets.findById(Number(id)) : undefined;
    },

    /** The letter as generated from the demand's template, before the supporter edits it. */
    async draft(demand: Demand, values: LetterFormValues): Promise<Draft | undefined> {
      const resolved = await resolveTarget(values.country, values.target);
      if (!resolved) return undefined;
      const { target, others } = resolved;
      const lang = values.lang === 'auto' ? suggestedLang(target) : values.lang;
      const text = templates.render(demand.slug, lang, {
        ...letterFields(target, values, lang),
        ownWords: values.ownWords,
      });
      return { target, others, lang, subject: await mail.subjectFor(demand.id, values.name, lang), text };
    },

    /**
     * Records a letter as the supporter left it and mails its link: a link to confirm it, when the
     * platform delivers it (by email, or in the target's next hand-in pack); a link to the letter, when
     * the supporter chose to send it themselves. Either way the answer is the same, and nothing in it
     * tells a stranger whether an address wrote before (SECURITY 17).
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
      const resolved = await resolveTarget(values.country, values.target);
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
      if (await flagged(values.email, ip, rateKey(config.secret, ip, demand.id), now)) {
        ctx.deps.logger?.info({ demand: demand.slug }, 'letter attempt flagged');
        return { kind: 'check-email' };
      }
      // By email where the delegation takes it; otherwise the next hand-in pack, unless the writer
      // chose to send it themselves.
      const delivery = deliveryFor(target, values.delivery);
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
        askReply: !values.noFollowUp,
        fingerprint: toBlob(own),
        ipHash,
        day: today,
        now,
        source: values.source || null,
      };
      const bandKeys = bands(own);
      try {
        await group.run(async (tx) => {
          const repo = lettersRepository(tx);
          // One address gets at most so many letter mails a day, whatever the demand and delegation;
          // read on every path, so that its cost tells nothing either.
          const addressMailable = (await repo.mailsToAddress(emailCanonical, today)) < maxMailsPerAddress;
          const existing = await repo.findSameDay(demand.id, target.id, emailCanonical, today);
          if (!existing) {
            const id = await repo.insert(letter, bandKeys, addressMailable ? 1 : 0);
            if (addressMailable) await mailLink(tx, repo, id, target);
            return;
          }
          const mailable = addressMailable && existing.mailsSent < rules.maxMailsPerLetter;
          // Still unconfirmed, it becomes the new version even over the caps, and every link mailed
          // before stops working: nothing a stranger wrote with this address can then be confirmed
          // from its mailbox, though over the caps its owner gets no link until the next day.
          const pending = existing.state === 'pending' && !ctx.isExpired(existing, now);
          if (pending && (await repo.rewrite(existing.id, letter, bandKeys, mailable))) {
            if (mailable) await mailLink(tx, repo, existing.id, target);
            return;
          }
          // Over the caps nothing is mailed, but the answer takes a write like any other: no timing tells.
          if (!mailable) return repo.touch(existing.id, now);
          await mail.queueReminder(tx, repo, existing, target);
          await repo.countMailSent(existing.id);
        });
      } catch (error) {
        // Another process wrote the same letter in the same instant: the unique index kept one.
        if (!isUniqueViolation(error)) throw error;
      }
      return { kind: 'check-email' };
    },
  };
}
