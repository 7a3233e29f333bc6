import type { RateLimiter } from '../security/rateLimiter';
import type { i18n } from 'i18next';
import type { Config } from '../config';
import type { GroupWriter } from '../db/groupWriter';
import type { Store } from '../db/store';
import type { Logger } from '../logger';
import type { Outbox } from '../mail/outbox';
import { targetsRepository } from '../targets/targetsRepository';
import { transition, type LetterState } from './letterStates';
import type { LetterTemplates } from './letterTemplates';
import { lettersRepository, type Letter, type LettersRepository } from './lettersRepository';
import { dayMs } from '../time/dates';

export interface LettersServiceDeps {
  store: Store;
  /** The hot paths' writes (a letter written, a letter confirmed) share commits through it. */
  group: GroupWriter;
  outbox: Outbox;
  templates: LetterTemplates;
  i18n: i18n;
  config: Pick<Config, 'secret' | 'baseUrl' | 'signing' | 'letters' | 'countRefreshSeconds'>;
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Where the per-IP limits count: this process's memory unless other processes take letters too. */
  rateLimiter?: RateLimiter;
  clock?: () => number;
}

export type LettersContext = ReturnType<typeof lettersContext>;

/**
 * What the parts of the letters service share: their dependencies, the repositories on the store
 * (reads outside any transaction; writes build theirs on the transaction), and the rules about a
 * letter's age that every part applies alike.
 */
export function lettersContext(deps: LettersServiceDeps) {
  const clock = deps.clock ?? Date.now;
  const rules = deps.config.letters;
  const ttl = rules.pendingTtlDays * dayMs;

  function isExpired(letter: Letter, now: number): boolean {
    return letter.state === 'pending' && now - letter.createdAt > ttl;
  }

  /** Unconfirmed letters older than the limit expire when they are next looked at (and by the sweep). */
  async function expireIfDue(repo: LettersRepository, letter: Letter, now: number): Promise<Letter> {
    if (!isExpired(letter, now)) return letter;
    // Someone may have moved it since it was read: then it is whatever they made it.
    if (!(await repo.move(letter.id, 'pending', transition('pending', 'expired'), now))) {
      return (await repo.findById(letter.id))!;
    }
    return { ...letter, state: 'expired' };
  }

  /** Compare-and-set: the state the letter is in afterwards, `to` or whatever someone made it first. */
  async function moveOr(
    repo: LettersRepository,
    letter: Letter,
    from: LetterState,
    to: LetterState,
    now: number,
    reason?: string,
  ): Promise<LetterState> {
    // A pending letter moves only as the version it was read at (see dispatch).
    const version = from === 'pending' ? letter.createdAt : undefined;
    if (await repo.move(letter.id, from, transition(from, to), now, reason ?? null, version)) return to;
    return (await repo.findById(letter.id))!.state;
  }

  return {
    deps,
    store: deps.store,
    clock,
    rules,
    ttl,
    repo: lettersRepository(deps.store),
    targets: targetsRepository(deps.store),
    isExpired,
    expireIfDue,
    moveOr,
  };
}
