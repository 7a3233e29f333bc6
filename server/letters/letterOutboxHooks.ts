import type { Executor } from '../db/store';
import { UnsendableMail } from '../mail/mailer';
import type { OutboxHook } from '../mail/outboxSender';
import type { LettersContext } from './letterContext';
import { transition } from './letterStates';
import { lettersRepository } from './lettersRepository';

/**
 * What the outbox sender calls for letter mail: the text, loaded by id when the mail is sent (the
 * rows stay small), and for the letter itself, its settling — on the transaction `tx` that records
 * the relay's answer, so that the two never disagree.
 */
export function letterOutboxHooks(ctx: LettersContext) {
  const { repo, clock } = ctx;
  const letterIdOf = (row: { params: Record<string, unknown> }) => Number(row.params.letterId);

  /** A letter mail's text, read when it is sent. A letter's text never changes once written. */
  async function letterText(row: { params: Record<string, unknown> }): Promise<{ letterText: string }> {
    const body = await repo.bodyOf(letterIdOf(row));
    if (body === undefined) throw new Error(`letter ${String(row.params.letterId)} not found`);
    return { letterText: body };
  }

  return {
    letter: {
      params: letterText,
      // The target's address as it is now: a corrected address is used; without one (removed, or the
      // target asked for paper) the letter joins the next hand-in pack.
      recipient: (row) => repo.targetEmailOf(letterIdOf(row)),
      async sent(tx: Executor, row, now) {
        const id = letterIdOf(row);
        const letters = lettersRepository(tx);
        const letter = await letters.stateOf(id);
        // A duplicate send after a crash finds the letter already sent: nothing to do.
        if (!letter || letter.state !== 'ready') return;
        if (await letters.move(id, 'ready', transition('ready', 'sent'), now)) {
          await letters.countSent(letter.demandId, letter.country, 'sent');
        }
      },
      async failed(tx: Executor, row, _state, error, cause) {
        const id = letterIdOf(row);
        const letters = lettersRepository(tx);
        if ((await letters.stateOf(id))?.state !== 'ready') return;
        if (cause instanceof UnsendableMail && cause.reason === 'no_address') {
          // Not the supporter's doing: its target lost its address, or asked for paper, while it waited.
          // It stays ready and joins the target's next hand-in pack.
          await letters.toPost(id, clock());
          ctx.deps.logger?.info({ letterId: id }, 'letter joins the next hand-in pack: its target has no address');
          return;
        }
        await letters.move(id, 'ready', transition('ready', 'failed'), clock());
        ctx.deps.logger?.warn({ letterId: id, error }, 'letter not delivered');
      },
    },
    letter_copy: { params: letterText },
    letter_handed_in: { params: letterText },
    // The confirmation goes to an address nobody has confirmed yet: it carries no text of the
    // sender's, or anyone could have the platform mail 20,000 characters of their choosing to anyone.
  } satisfies Record<string, OutboxHook>;
}
