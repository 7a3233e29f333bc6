import type { Executor } from '../db/store';
import { targetsRepository } from '../targets/targetsRepository';
import type { LettersContext } from './letterContext';
import type { LetterMail } from './letterMail';
import { lettersRepository } from './lettersRepository';

/** When the writers' mails may go, and the Message-IDs to find them by (to take them back). */
export interface HandedInMailOptions {
  notBefore?: number;
  messageId?: (index: number) => string;
}

/**
 * Letters that travel in hand-in packs, as the pack recorder settles them. Both run on the
 * recorder's transaction: the pack's record, its letters' states, the public counts and the mails to
 * their writers commit together or not at all.
 */
export function letterPacks(ctx: LettersContext, mail: LetterMail) {
  return {
    /**
     * Pack `batchId` was recorded as handed in (on `handedInAt`, recorded at `now`): its waiting
     * letters become sent, are counted as handed in with a pack, and each writer gets one mail saying
     * so. Answers how many letters it moved; recording the same pack again moves and mails nothing.
     */
    async lettersHandedIn(
      tx: Executor,
      batchId: number,
      now: number,
      handedInAt = now,
      mailOptions: HandedInMailOptions = {},
    ): Promise<number> {
      const letters = lettersRepository(tx);
      const targets = targetsRepository(tx);
      const moved = await letters.markHandedIn(batchId, now, handedInAt);
      for (const [i, { id }] of moved.entries()) {
        const letter = (await letters.findById(id))!;
        const target = (await targets.findById(letter.targetId))!;
        await mail.queueHandedIn(tx, letters, letter, target, handedInAt, {
          notBefore: mailOptions.notBefore,
          messageId: mailOptions.messageId?.(i),
        });
      }
      if (moved.length > 0) ctx.deps.logger?.info({ batchId, letters: moved.length }, 'letters handed in with a pack');
      return moved.length;
    },

    /**
     * The hand-in of pack `batchId` was undone (within 24 hours): its letters wait for the next pack
     * again and are counted out. (The recorder takes back their writers' mails, which wait out the
     * undo window before they go.)
     */
    async lettersHandInUndone(tx: Executor, batchId: number, now: number): Promise<number> {
      return (await lettersRepository(tx).undoHandedIn(batchId, now)).length;
    },
  };
}
