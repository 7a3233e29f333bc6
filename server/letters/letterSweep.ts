import type { LettersContext } from './letterContext';
import { similarityWindow } from './letterHolds';
import { transition } from './letterStates';
import { lettersRepository } from './lettersRepository';

/**
 * The hourly sweep: letters nobody confirmed in time expire, old similarity bands go, and writers
 * whose letter went out two (or three) weeks ago are asked whether they got a reply (`askReplies`).
 */
export function letterSweep(ctx: LettersContext, askReplies?: () => Promise<unknown>) {
  const { clock, rules, ttl } = ctx;
  let sweepTimer: NodeJS.Timeout | undefined;

  /** Expires every pending letter past its 7 days, and forgets similarity bands older than the window. */
  function expireStale(): Promise<number> {
    const now = clock();
    transition('pending', 'expired'); // the one move the sweep makes, checked against the table
    return ctx.store.transaction(async (tx) => {
      const repo = lettersRepository(tx);
      await repo.pruneBands(now - similarityWindow);
      return repo.expirePending(now - ttl, now);
    });
  }

  const sweep = async () => {
    await expireStale().catch((error: unknown) => ctx.deps.logger?.warn({ err: error }, 'letter expiry sweep failed'));
    await askReplies?.().catch((error: unknown) =>
      ctx.deps.logger?.warn({ err: error }, 'asking letter writers about replies failed'),
    );
  };

  return {
    expireStale,

    /** Expires what is due now, then every hour (config.letters.sweepMs). */
    startSweep(): void {
      void sweep();
      sweepTimer = setInterval(() => void sweep(), rules.sweepMs);
      sweepTimer.unref();
    },

    stopSweep(): void {
      if (sweepTimer) clearInterval(sweepTimer);
    },
  };
}
