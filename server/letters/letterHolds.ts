import type { Executor } from '../db/store';
import { targetsRepository } from '../targets/targetsRepository';
import { channelOf } from './letterChannel';
import type { LettersContext } from './letterContext';
import { dayMs } from '../time/dates';
import type { LetterMail } from './letterMail';
import { IllegalTransitionError, transition, type LetterState } from './letterStates';
import { lettersRepository, type HeldLetter, type Letter } from './lettersRepository';
import { bands, fromBlob, jaccard } from './similarity';

/** Near-duplicates are looked for among the letters of the last 7 days. */
export const similarityWindow = 7 * dayMs;

export type LetterHolds = ReturnType<typeof letterHolds>;

/**
 * Where a confirmed letter goes: ready (queued in the outbox, or waiting for its target's next
 * hand-in pack), or held for an organiser (near-duplicates of many others), who releases or drops it.
 */
export function letterHolds(ctx: LettersContext, mail: LetterMail) {
  const { repo, rules, clock } = ctx;

  /** How many other people (distinct canonical emails) sent near-identical words on this demand lately. */
  async function similarOthers(letter: Letter, print: Uint32Array, now: number): Promise<number> {
    const keys = bands(print);
    if (keys.length === 0) return 0;
    const people = new Set<string>();
    const candidates = await repo.similarCandidates({
      demandId: letter.demandId,
      keys,
      since: now - similarityWindow,
      excludeId: letter.id,
    });
    for (const c of candidates) {
      if (c.emailCanonical === letter.emailCanonical || people.has(c.emailCanonical)) continue;
      if (jaccard(print, fromBlob(c.fingerprint)) >= rules.similarity) people.add(c.emailCanonical);
    }
    return people.size;
  }

  /**
   * ready (and queued, or waiting for the pack), or held: the decision made when a letter is confirmed
   * or released, in the transaction `tx`. For a confirmation, `similar` is the near-duplicate count,
   * read before it.
   */
  async function dispatch(
    tx: Executor,
    letter: Letter,
    from: 'pending' | 'held',
    now: number,
    similar = 0,
  ): Promise<LetterState> {
    const letters = lettersRepository(tx);
    if (from === 'pending' && similar >= rules.holdThreshold) {
      return ctx.moveOr(letters, letter, from, 'held', now, 'similar');
    }
    const target = await targetsRepository(tx).findById(letter.targetId);
    // The moves are compare-and-set: if someone moved the letter first (a second Confirm at the same
    // moment, say), it is left as they made it, and only the move that happened queues the letter.
    // A pending letter is confirmed only as the version its link was mailed for: a stranger's rewrite
    // committed meanwhile (PostgreSQL runs the two at once) makes the move find nothing.
    const version = from === 'pending' ? letter.createdAt : undefined;
    if (!(await letters.move(letter.id, from, transition(from, 'ready'), now, null, version))) {
      return (await letters.findById(letter.id))!.state;
    }
    // A letter for the pack waits, ready, for the pack recorder (nothing is queued). So does an email
    // letter whose target lost its address or asked for paper since it was written: it joins the pack.
    if (letter.delivery === 'post') return 'ready';
    if (!target?.email || channelOf(target) === 'post') {
      await letters.toPost(letter.id, now);
      return 'ready';
    }
    await mail.queueDelivery(tx, letters, letter, { ...target, email: target.email });
    return 'ready';
  }

  return {
    similarOthers,
    dispatch,

    /** Letters held for review, oldest first. */
    held: (): Promise<HeldLetter[]> => repo.held(),

    /** held → ready: queues the letter (and the copy), or leaves it for the pack, as a confirmation would. */
    release(id: number): Promise<LetterState> {
      return ctx.store.transaction(async (tx) => {
        const letter = await lettersRepository(tx).findById(id);
        if (!letter) throw new Error(`There is no letter ${id}.`);
        // Releasing is the held → ready move only (a pending letter is released by its owner's Confirm).
        if (letter.state !== 'held') throw new IllegalTransitionError(letter.state, 'ready');
        return dispatch(tx, letter, 'held', clock());
      });
    },

    /** held → dropped: never sent. */
    async drop(id: number): Promise<LetterState> {
      const letter = await repo.findById(id);
      if (!letter) throw new Error(`There is no letter ${id}.`);
      await repo.move(id, letter.state, transition(letter.state, 'dropped'), clock());
      return 'dropped';
    },
  };
}
