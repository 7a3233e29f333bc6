import {
  allowedTransitions,
  canTransition,
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
    ['held', 'ready'],
    ['held', 'dropped'],
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

  it('never lets a sent, expired, self-sent, dropped or failed letter move again (a pack undo aside, below)', () => {
    for (const done of ['sent', 'expired', 'self_sent', 'dropped', 'failed'] as const) {
      expect(allowedTransitions[done]).toEqual([]);
    }
  });

  it('ends a letter’s life (for retention) in the states it never leaves, and in sent', () => {
    expect([...finalStates].sort()).toEqual(['dropped', 'expired', 'failed', 'self_sent', 'sent']);
  });

  describe('a letter that travels in a hand-in pack', () => {
    it('goes back from sent to ready when its pack is undone, and only a pack letter does', () => {
      expect(transition('sent', 'ready', 'post')).toBe('ready');
      expect(canTransition('sent', 'ready', 'email')).toBe(false);
      expect(canTransition('sent', 'ready', 'self')).toBe(false);
      expect(canTransition('sent', 'ready')).toBe(false);
      expect(() => transition('sent', 'ready', 'email')).toThrow(IllegalTransitionError);
    });

    it('makes the moves every letter makes (confirmed, held, handed in), and no others', () => {
      for (const [from, to] of allowed) expect(canTransition(from, to, 'post')).toBe(true);
      const extra = refused.filter(([from, to]) => canTransition(from, to, 'post'));
      expect(extra).toEqual([['sent', 'ready']]);
    });
  });
});
