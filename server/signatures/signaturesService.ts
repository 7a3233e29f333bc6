import type { Config } from '../config';
import type { GroupWriter } from '../db/groupWriter';
import type { Executor, Store } from '../db/store';
import type { Lang } from '../i18n/i18n';
import type { Outbox } from '../mail/outbox';
import type { Petition } from '../petitions/petitionsRepository';
import { greetingName } from '../security/nameRules';
import { hashIp, signToken, tokenId, verifyToken } from '../security/tokens';
import type { SignFormValues } from './signForm';
import { consentVersion } from './consent';
import { canonicalEmail, EmailList, IpRanges, rateKey } from './rules';
import { memoryRateLimiter, type RateLimiter } from '../security/rateLimiter';
import { signaturesRepository, type Signature } from './signaturesRepository';
import { asOf } from '../petitions/closingDate';
import { dayMs } from '../time/dates';

/** What confirming would record: shown before the Confirm button, since a stranger may have typed it. */
export interface SignerDetails {
  name: string;
  country: string;
  postcode: string | null;
  showPublicly: boolean;
  updates: boolean;
}

export type ConfirmationStatus =
  | { status: 'unknown' }
  | { status: 'expired'; petitionId: number }
  /**
   * Pending when its petition closed, and not confirmed by `confirmBy`: CONFIRM_AFTER_CLOSE_MS
   * after the closing, or when its link expired if that was sooner.
   */
  | { status: 'closed'; petitionId: number; closedAt: number; confirmBy: number }
  | { status: 'pending'; petitionId: number; signer: SignerDetails }
  | { status: 'validated'; petitionId: number; signatureId: number; country: string };

/**
 * How long after its petition closes a signature made before may still be confirmed: its mail may
 * have gone out minutes before the closing time (the UK Parliament's petitions site allows a day too).
 * After that the count is final, and the link says so.
 */
export const CONFIRM_AFTER_CLOSE_MS = dayMs;

export interface SignaturesServiceDeps {
  store: Store;
  group: GroupWriter;
  outbox: Outbox;
  config: Pick<Config, 'secret' | 'baseUrl' | 'signing'>;
  /** Called after a signature is validated, once its transaction has committed. */
  onValidated?: (petitionId: number) => void;
  /** Where the signing rate limits count: this process's memory unless other processes sign too. */
  rateLimiter?: RateLimiter;
  clock?: () => number;
}

export type SignaturesService = ReturnType<typeof createSignaturesService>;

export function createSignaturesService(deps: SignaturesServiceDeps) {
  const { outbox, config, group } = deps;
  const repo = signaturesRepository(deps.store);
  const clock = deps.clock ?? Date.now;
  const rules = config.signing;
  const rate = deps.rateLimiter ?? memoryRateLimiter(rules.rateLimits);
  const allowedIps = new IpRanges(rules.allowedIpRanges);
  const blockedIps = new IpRanges(rules.blockedIpRanges);
  const allowedEmails = new EmailList(rules.allowedEmailDomains, rules.allowedEmails);
  const blockedEmails = new EmailList(rules.blockedEmailDomains, rules.blockedEmails);

  const unsubscribeToken = (s: Pick<Signature, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'unsubscribe', s.id, s.createdAt);
  const confirmToken = (s: Pick<Signature, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'confirm', s.id, s.createdAt);

  function queueConfirmation(
    tx: Executor,
    s: Pick<Signature, 'id' | 'createdAt' | 'name' | 'email'>,
    petition: Petition,
    lang: Lang,
  ) {
    return outbox.enqueue(tx, {
      kind: 'signature_confirmation',
      to: s.email,
      template: 'confirm-signature',
      locale: lang,
      params: {
        // Every mail about a signature names it: anonymising the signature deletes its mail too.
        signatureId: s.id,
        // The address is not confirmed: no text of the signer's beyond a name that passes today's rules.
        name: greetingName(s.name),
        petitionTitle: petition.title,
        confirmUrl: `${config.baseUrl}/signatures/${confirmToken(s)}/confirm`,
        expiresInDays: rules.tokenTtlDays,
        // When the petition's closing date ends the link sooner, the mail names that time instead.
        ...(petition.closesAt !== null &&
        petition.closesAt + CONFIRM_AFTER_CLOSE_MS < s.createdAt + rules.tokenTtlDays * dayMs
          ? { confirmBy: petition.closesAt + CONFIRM_AFTER_CLOSE_MS }
          : {}),
      },
    });
  }

  /** Why an attempt is not counted, from the lists alone; `undefined` when the rate limit decides. */
  function listedReason(values: SignFormValues, ip: string | undefined): string | null | undefined {
    if (blockedIps.has(ip)) return 'blocked_ip';
    const blocked = blockedEmails.match(values.email);
    if (blocked) return blocked === 'address' ? 'blocked_email' : 'blocked_domain';
    if (allowedIps.has(ip) || allowedEmails.has(values.email)) return null;
    return undefined;
  }

  return {
    /**
     * Records a signature (or a fresh confirmation mail for one that exists) and queues its mail, in
     * one transaction shared with the other signatures of the same moment. Whatever happens, the
     * signer is told to check their email: nothing here reveals whether an address already signed,
     * or that an attempt was flagged.
     */
    async sign(petition: Petition, values: SignFormValues, ip: string | undefined, lang: Lang): Promise<void> {
      const now = clock();
      const ipHash = ip ? hashIp(config.secret, ip) : null;
      const listed = listedReason(values, ip);
      const signature = {
        petitionId: petition.id,
        name: values.name,
        email: values.email,
        emailCanonical: canonicalEmail(values.email),
        country: values.country,
        postcode: values.postcode || null,
        showPublicly: values.showPublicly,
        updatesOptIn: values.updates,
        consentVersion,
        ipHash,
        locale: lang,
        source: values.source || null,
        now,
      };
      await group.run(async (tx) => {
        const repo = signaturesRepository(tx);
        // The rate window's hit is written with the signature it judged (shared by every process).
        const reason =
          listed !== undefined
            ? listed
            : (await rate.hit(tx, rateKey(config.secret, ip, petition.id), now))
              ? 'rate_limit'
              : null;
        if (reason) {
          await repo.insert({ ...signature, state: 'fraudulent', fraudReason: reason }, 0);
          return;
        }
        const existing = await repo.findActive(petition.id, signature.emailCanonical);
        if (!existing) {
          const id = await repo.insert({ ...signature, state: 'pending', fraudReason: null }, 1);
          await queueConfirmation(tx, { id, createdAt: now, name: values.name, email: values.email }, petition, lang);
          return;
        }
        // Signing again re-sends the confirmation, so a lost mail is not a dead end: at most 5 mails in
        // a window of 24 hours from the first. Capped for ever, a stranger's five attempts would keep
        // the address's owner from ever signing; per window, they delay the owner by a day at most,
        // and the mailbox gets at most 5 of these mails per petition in each window.
        const windowFrom = now - rules.mailWindowMs;
        const mailsInWindow = existing.mailWindowAt > windowFrom ? existing.mailsSent : 0;
        // Whatever the outcome, the attempt is written, in the same commit: no timing tells an
        // address that signed (capped, invalidated) from a new one.
        if (mailsInWindow >= rules.maxMailsPerSignature) {
          // Past the cap nothing is mailed, but a pending signature still takes the newest details
          // and time, as a letter does: every link mailed before stops working, so nothing a stranger
          // typed can be confirmed from the owner's mailbox.
          if (existing.state === 'pending') {
            await repo.replacePending(existing.id, signature, windowFrom, { mailed: false });
            return;
          }
          return await repo.touch(existing.id, now);
        }
        if (existing.state === 'pending') {
          // The newest attempt wins, whoever made it: a stranger who typed this address first can
          // neither keep its owner out nor have the owner confirm the stranger's name unknowingly,
          // since only the newest mail's link works and its page shows what that attempt said. An
          // expired link is renewed the same way.
          const createdAt = (await repo.replacePending(existing.id, signature, windowFrom))!;
          await queueConfirmation(
            tx,
            { id: existing.id, createdAt, name: values.name, email: values.email },
            petition,
            lang,
          );
          return;
        }
        if (existing.state === 'validated') {
          await outbox.enqueue(tx, {
            kind: 'signature_already_confirmed',
            to: existing.email,
            template: 'already-signed',
            locale: lang,
            params: {
              signatureId: existing.id,
              name: existing.name,
              petitionTitle: petition.title,
              petitionUrl: `${config.baseUrl}/petitions/${petition.slug}`,
            },
          });
        } else return await repo.touch(existing.id, now); // invalidated: nothing to mail
        await repo.countMailSent(existing.id, now, windowFrom);
      });
    },

    /** What a confirmation link points at, without changing anything (a GET must never confirm). */
    async status(token: string): Promise<ConfirmationStatus> {
      return (await check(token)).status;
    },

    /** pending → validated, counted at once. A replay, or a wrong or expired token, changes nothing. */
    async confirm(token: string): Promise<ConfirmationStatus> {
      const { status, signature } = await check(token);
      if (status.status !== 'pending' || !signature) return status;
      // Validated only if still the version the token was checked against: not a newer attempt's
      // details, which whoever pressed the button was never shown.
      const changed = await deps.store.transaction((tx) => signaturesRepository(tx).validate(signature, clock()));
      if (!changed) return (await check(token)).status; // confirmed meanwhile (a double click), or replaced
      deps.onValidated?.(signature.petitionId);
      return {
        status: 'validated',
        petitionId: signature.petitionId,
        signatureId: signature.id,
        country: signature.country,
      };
    },

    unsubscribeToken,

    /** Stops campaign updates for the person behind the token. Works without a session or cookie (RFC 8058). */
    async unsubscribe(token: string): Promise<boolean> {
      const id = tokenId(token);
      const s = id === undefined ? undefined : await repo.findById(id);
      if (!s || !verifyToken(config.secret, 'unsubscribe', token, s.createdAt)) return false;
      await repo.unsubscribe(s.id, clock());
      return true;
    },
  };

  /** The signature a confirmation token names, if the token is its current one, and where it stands. */
  async function check(token: string): Promise<{ status: ConfirmationStatus; signature?: Signature }> {
    const id = tokenId(token);
    const s = id === undefined ? undefined : await repo.findById(id);
    if (!s || !verifyToken(config.secret, 'confirm', token, s.createdAt)) return { status: { status: 'unknown' } };
    if (s.state === 'validated') {
      // "Confirmed" is said only once it is on disk: the confirmation read may be another
      // request's (a double click), or another process's, whose commit is not fsynced yet.
      await deps.store.settledReads?.();
      return { status: { status: 'validated', petitionId: s.petitionId, signatureId: s.id, country: s.country } };
    }
    if (s.state !== 'pending') return { status: { status: 'unknown' } };
    const now = clock();
    const expiresAt = s.createdAt + rules.tokenTtlDays * dayMs;
    const petition = await repo.petitionClosing(s.petitionId);
    const { closedAt } = petition ? asOf(petition, now) : { closedAt: null };
    // Closed: the link works until a day after, or until it expires if that is sooner. Its page
    // does not say "sign again", which a closed petition refuses.
    if (closedAt !== null && now >= closedAt) {
      const confirmBy = Math.min(closedAt + CONFIRM_AFTER_CLOSE_MS, expiresAt);
      if (now > confirmBy) return { status: { status: 'closed', petitionId: s.petitionId, closedAt, confirmBy } };
    } else if (now > expiresAt) return { status: { status: 'expired', petitionId: s.petitionId } };
    const signer = {
      name: s.name,
      country: s.country,
      postcode: s.postcode,
      showPublicly: s.showPublicly === 1,
      updates: s.updatesOptIn === 1,
    };
    return { status: { status: 'pending', petitionId: s.petitionId, signer }, signature: s };
  }
}
