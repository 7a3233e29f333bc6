import {
  allowedTransitions,
  finalStates,
  IllegalTransitionError,
  letterStates,
  transition,
  type LetterState,
} from '../../server/letters/letterStates';

describe('the letter state machine', () => {
  const allowed: Array<[LetterState, LetterState]> = [
    ['pending', 'ready'],
    ['pending', 'held'],
    ['pending', 'expired'],
    ['pending', 'self_sent'],
    ['ready', 'sent'],
    ['ready', 'failed'],
    ['ready', 'held'], // its target lost its address while it waited to be sent
    ['held', 'ready'],
    ['held', 'dropped'],
    ['sent', 'ready'], // a hand-in pack's record taken back within 24 hours (post letters only)
  ];
  const key = ([from, to]: [LetterState, LetterState]) => `${from}>${to}`;

  it('lists exactly the moves the design allows', () => {
    const table = Object.entries(allowedTransitions).flatMap(([from, tos]) =>
      tos.map((to) => key([from as LetterState, to])),
    );
    expect(table.sort()).toEqual(allowed.map(key).sort());
  });

  it.each(allowed)('lets a letter go from %s to %s', (from, to) => {
    expect(transition(from, to)).toBe(to);
  });

  const refused = letterStates
    .flatMap((from) => letterStates.map((to): [LetterState, LetterState] => [from, to]))
    .filter((pair) => !allowed.map(key).includes(key(pair)));

  it('refuses every other pair, staying put included', () => {
    expect(refused).toHaveLength(letterStates.length ** 2 - allowed.length);
  });

  it.each(refused)('refuses %s → %s with a typed error', (from, to) => {
    expect(() => transition(from, to)).toThrow(IllegalTransitionError);
    try {
      transition(from, to);
    } catch (error) {
      expect(error).toMatchObject({ from, to });
    }
  });

  it('never lets an expired, self-sent, dropped or failed letter move again, and a sent one only back to ready', () => {
    for (const done of ['expired', 'self_sent', 'dropped', 'failed'] as const) {
      expect(allowedTransitions[done]).toEqual([]);
    }
    expect(allowedTransitions.sent).toEqual(['ready']);
  });

  it('ends a letter’s life (for retention) in the states it never leaves, and in sent', () => {
    expect([...finalStates].sort()).toEqual(['dropped', 'expired', 'failed', 'self_sent', 'sent']);
  });
});
