/**
 * A letter's life (SECURITY.md 4). Nothing is sent before its owner confirms; a confirmed letter is
 * `ready` (queued in the outbox) or `held` for review when its words are near-duplicates of many
 * others; the outbox marks it `sent` or `failed`. A letter to a target without an address is sent by
 * the supporter, who tells us (`self_sent`). A letter that travels by post (`delivery = 'post'`) stays
 * `ready` until the hand-in pack it joined is recorded as handed in, then is `sent` (and `ready` again
 * if that record is taken back within 24 hours). Unconfirmed letters expire after 7 days.
 */
export const letterStates = ['pending', 'ready', 'sent', 'failed', 'expired', 'held', 'self_sent', 'dropped'] as const;
export type LetterState = (typeof letterStates)[number];

/** The only moves a letter may make; anything else is refused. */
export const allowedTransitions: Readonly<Record<LetterState, readonly LetterState[]>> = {
  pending: ['ready', 'held', 'expired', 'self_sent'],
  // held: the target lost its address while the letter waited to be sent.
  ready: ['sent', 'failed', 'held'],
  held: ['ready', 'dropped'],
  // back to ready: a hand-in pack's record taken back within its 24 hours (post letters only).
  sent: ['ready'],
  failed: [],
  expired: [],
  self_sent: [],
  dropped: [],
};

/**
 * Where a letter's life ends (what retention waits for): the states it never leaves, and `sent`,
 * which a post letter leaves only when its pack's record is taken back within 24 hours.
 */
export const finalStates: readonly LetterState[] = letterStates.filter(
  (state) => state === 'sent' || allowedTransitions[state].length === 0,
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

export function canTransition(from: LetterState, to: LetterState): boolean {
  return allowedTransitions[from]?.includes(to) ?? false;
}

/** Returns `to` when the move is allowed, throws IllegalTransitionError otherwise. */
export function transition(from: LetterState, to: LetterState): LetterState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
