import type { Lang } from '../i18n/i18n';
import { lettersContext, type LettersServiceDeps } from './letterContext';
import { letterConfirmation } from './letterConfirmation';
import { letterDrafting, suggestedLang } from './letterDrafting';
import { letterHolds } from './letterHolds';
import { letterMail } from './letterMail';
import { letterOutboxHooks } from './letterOutboxHooks';
import { letterPacks } from './letterPacks';
import { letterSweep } from './letterSweep';
import { letterReplies } from './replies/letterReplies';
import type { Demand, LetterCountryCount } from './lettersRepository';

export type { LettersServiceDeps } from './letterContext';
export type { LetterPage, LinkStatus } from './letterConfirmation';
export type { Draft, SubmitOutcome } from './letterDrafting';

export interface DemandLetters {
  demand: Demand;
  /** Per country: `emailed` and `posted` make up `sent` (every letter the platform delivered). */
  counts: Array<LetterCountryCount & { emailed: number }>;
  sent: number;
  emailed: number;
  posted: number;
  selfSent: number;
}

export type LettersService = ReturnType<typeof createLettersService>;

/**
 * Letters to the delegations, one object for the routes, the console and the CLI, built from its
 * parts: drafting and writing (letterDrafting), the mailed links (letterConfirmation), holds and
 * their release (letterHolds), the sweep (letterSweep), and the outbox's hooks (letterOutboxHooks).
 */
export function createLettersService(deps: LettersServiceDeps) {
  const ctx = lettersContext(deps);
  const mail = letterMail(ctx);
  const holds = letterHolds(ctx, mail);
  const replies = letterReplies(ctx, mail);
  const { repo } = ctx;
  return {
    confirmToken: mail.confirmToken,
    statusToken: mail.statusToken,
    suggestedLang,
    pendingTtlDays: ctx.rules.pendingTtlDays,

    demand: (slug: string, lang: Lang): Promise<Demand | undefined> => repo.demand(slug, lang),

    ...letterDrafting(ctx, mail),
    ...letterConfirmation(ctx, mail, holds),

    outboxHooks: letterOutboxHooks(ctx),

    // For the pack recorder, on its transaction: lettersHandedIn, lettersHandInUndone.
    ...letterPacks(ctx, mail),

    held: holds.held,
    release: holds.release,
    drop: holds.drop,

    // "Did you get a reply?": asked by the sweep, answered on its page, tallied per delegation.
    ...replies,

    ...letterSweep(ctx, replies.askReplies),

    /** Letters so far for a demand, per country, read from the counters (never COUNT(*)). */
    async demandLetters(slug: string, lang: Lang): Promise<DemandLetters | undefined> {
      const demand = await repo.demand(slug, lang);
      if (!demand) return undefined;
      const counts = (await repo.countryCounts(demand.id)).map((c) => ({ ...c, emailed: c.sent - c.posted }));
      const total = (key: 'sent' | 'emailed' | 'posted' | 'selfSent') => counts.reduce((n, c) => n + c[key], 0);
      return {
        demand,
        counts,
        sent: total('sent'),
        emailed: total('emailed'),
        posted: total('posted'),
        selfSent: total('selfSent'),
      };
    },
  };
}
