import type { Delivery } from './letterTypes';

/**
 * A letter's life (SECURITY.md 4). Nothing is sent before its owner confirms; a confirmed letter is
 * `ready` (queued in the outbox, or waiting for its target's next hand-in pack) or `held` for review
 * when its words are near-duplicates of many others; the outbox, or the pack recorded as handed in,
 * marks it `sent` (or the outbox `failed`). A letter the supporter sends themselves is marked
 * `self_sent` when they tell us. Unconfirmed letters expire after 7 days.
 */
export const letterStates = ['pending', 'ready', 'sent', 'failed', 'expired', 'held', 'self_sent', 'dropped'] as const;
export type LetterState = (typeof letterStates)[number];

/** The only moves a letter may make, whatever its delivery; anything else is refused. */
export const allowedTransitions: Readonly<Record<LetterState, readonly LetterState[]>> = {
  pending: ['ready', 'held', 'expired', 'self_sent'],
  // A ready letter whose target lost its address (or asked for paper) stays ready: it joins the pack.
  ready: ['sent', 'failed'],
  held: ['ready', 'dropped'],
  sent: [],
  failed: [],
  expired: [],
  self_sent: [],
  dropped: [],
};

/**
 * The further moves of a letter that travels in a hand-in pack (delivery 'post'): a pack recorded as
 * handed in by mistake may be undone within 24 hours, and its letters wait for the next one again.
 */
export const packTransitions: Readonly<Partial<Record<LetterState, readonly LetterState[]>>> = {
  sent: ['ready'],
};

/**
 * Where a letter's life ends (what retention waits for): the states it never leaves. A post letter's
 * `sent` may still go back to `ready` for the 24 hours its pack's record can be undone; retention
 * waits far longer than that.
 */
export const finalStates: readonly LetterState[] = letterStates.filter(
  (state) => allowedTransitions[state].length === 0,
);

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: LetterState,
    readonly to: LetterState,
  ) {
    super(`a letter cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: LetterState, to: LetterState, delivery?: Delivery): boolean {
  if (allowedTransitions[from]?.includes(to)) return true;
  return delivery === 'post' && (packTransitions[from]?.includes(to) ?? false);
}

/** Returns `to` when the move is allowed (for a letter of that delivery), throws IllegalTransitionError otherwise. */
export function transition(from: LetterState, to: LetterState, delivery?: Delivery): LetterState {
  if (!canTransition(from, to, delivery)) throw new IllegalTransitionError(from, to);
  return to;
}
