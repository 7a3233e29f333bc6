import type { Lang } from '../i18n/i18n';
import { tokenId, verifyToken } from '../security/tokens';
import type { Target } from '../targets/targetsRepository';
import { addressLines } from './letterChannel';
import type { LettersContext } from './letterContext';
import type { LetterHolds } from './letterHolds';
import type { LetterMail } from './letterMail';
import { transition } from './letterStates';
import { lettersRepository, type Demand, type Letter } from './lettersRepository';
import { mailtoHref } from './mailto';

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
  /** The delegation's postal address, line by line (for the print view's address block). */
  targetAddress: string[];
}

/** What the links mailed to a writer do: confirm the letter, show its page, mark it sent by hand. */
export function letterConfirmation(ctx: LettersContext, mail: LetterMail, holds: LetterHolds) {
  const { repo, targets, clock } = ctx;
  const { config, group } = ctx.deps;
  const { statusToken } = mail;

  async function findByToken(purpose: 'letter-confirm' | 'letter-status', token: string): Promise<Letter | undefined> {
    const id = tokenId(token);
    const letter = id === undefined ? undefined : await repo.findById(id);
    if (!letter || !verifyToken(config.secret, purpose, token, letter.createdAt)) return undefined;
    return letter;
  }

  async function findToConfirm(token: string): Promise<{ letter: Letter; print: Uint32Array } | undefined> {
    const id = tokenId(token);
    const found = id === undefined ? undefined : await repo.findWithFingerprint(id);
    if (!found || !verifyToken(config.secret, 'letter-confirm', token, found.letter.createdAt)) return undefined;
    return found;
  }

  /** The letter as it is now, expired first if it is due (a write only then). */
  function current(letter: Letter): Promise<Letter> | Letter {
    const now = clock();
    if (!ctx.isExpired(letter, now)) return letter;
    return ctx.store.transaction((tx) => ctx.expireIfDue(lettersRepository(tx), letter, now));
  }

  return {
    /** What a confirmation link points at, changing nothing but a due expiry (a GET never sends). */
    async linkStatus(token: string): Promise<LinkStatus> {
      const found = await findByToken('letter-confirm', token);
      if (!found) return { status: 'unknown' };
      const letter = await current(found);
      if (letter.state === 'expired') return { status: 'expired' };
      if (letter.state === 'pending' && letter.delivery !== 'self') return { status: 'pending', letter };
      // "Confirmed" only once on disk: it may be another request's or process's commit, not fsynced yet.
      await ctx.store.settledReads?.();
      return { status: 'done', statusToken: statusToken(letter) };
    },

    /**
     * pending → ready with the letter queued in the outbox (by email) or waiting for its target's next
     * hand-in pack (by post, nothing queued), in one transaction (shared with the other confirmations
     * of the same moment) — or held when its words are near-duplicates of many others. A replay, or a
     * wrong or expired token, sends nothing.
     */
    async confirm(token: string): Promise<LinkStatus> {
      const { letter: found, print } = (await findToConfirm(token)) ?? {};
      if (!found || !print) return { status: 'unknown' };
      const confirmable = found.state === 'pending' && found.delivery !== 'self' && !ctx.isExpired(found, clock());
      // Reading the near-duplicates needs no write lock: done before the transaction, it keeps the
      // shared group commit short. The moves below are compare-and-set, so a concurrent confirmation
      // of the same letter finds it no longer pending and queues nothing.
      const similar = confirmable ? await holds.similarOthers(found, print, clock()) : 0;
      return group.run(async (tx): Promise<LinkStatus> => {
        const now = clock();
        const letters = lettersRepository(tx);
        // Written again since the link was checked: it confirms the version it was mailed for, or nothing.
        if ((await letters.findById(found.id))?.createdAt !== found.createdAt) return { status: 'unknown' };
        const letter = await ctx.expireIfDue(letters, found, now);
        if (letter.state === 'expired') return { status: 'expired' };
        if (letter.state === 'pending' && letter.delivery !== 'self') {
          // Still pending afterwards: it was written again meanwhile (its move needs this version).
          if ((await holds.dispatch(tx, letter, 'pending', now, similar)) === 'pending') return { status: 'unknown' };
        }
        return { status: 'done', statusToken: statusToken(letter) };
      });
    },

    /** The letter's own page: its state, its text, and for a self-sent letter the ways to send it. */
    async page(token: string, lang: Lang): Promise<LetterPage | undefined> {
      const found = await findByToken('letter-status', token);
      if (!found) return undefined;
      const letter = await current(found);
      const target = (await targets.findById(letter.targetId))!;
      const subject = await mail.subjectFor(letter.demandId, letter.name, letter.lang);
      const body = (await repo.bodyOf(letter.id)) ?? '';
      return {
        letter,
        body,
        demand: (await repo.demandById(letter.demandId, lang))!,
        target,
        subject,
        statusToken: token,
        mailto: letter.delivery === 'self' ? mailtoHref({ subject, body }) : null,
        targetAddress: addressLines(target.postalAddress),
      };
    },

    /**
     * The supporter says they sent it themselves: pending → self_sent, counted apart from delivered
     * letters. Only with the status link mailed to them: opening it shows the address is theirs, or
     * anyone could inflate the public count of letters sent with made-up addresses.
     */
    async markSelfSent(token: string): Promise<boolean> {
      const found = await findByToken('letter-status', token);
      if (!found || found.delivery !== 'self') return false;
      return ctx.store.transaction(async (tx) => {
        const now = clock();
        const letters = lettersRepository(tx);
        const latest = await letters.findById(found.id);
        // Written again since the link was checked: that link is for a version that is no more.
        if (latest?.createdAt !== found.createdAt) return false;
        const letter = await ctx.expireIfDue(letters, latest, now);
        if (letter.state !== 'pending') return letter.state === 'self_sent';
        if (!(await letters.move(letter.id, 'pending', transition('pending', 'self_sent'), now))) return false;
        await letters.countSent(letter.demandId, letter.country, 'self_sent');
        return true;
      });
    },
  };
}
