import type { Executor } from '../db/store';
import type { Lang } from '../i18n/i18n';
import { greetingName } from '../security/nameRules';
import { signToken } from '../security/tokens';
import type { Target } from '../targets/targetsRepository';
import type { LettersContext } from './letterContext';
import { formatDay } from '../time/dates';
import type { Letter, LettersRepository } from './lettersRepository';

export type LetterMail = ReturnType<typeof letterMail>;

/**
 * The mail about letters, queued in the transaction that causes it, and the signed links it carries.
 * A link is bound to the letter's time: a letter written again gets a new one, and the old stop working.
 */
export function letterMail(ctx: LettersContext) {
  const { outbox, config, i18n } = ctx.deps;
  const { rules } = ctx;

  const confirmToken = (l: Pick<Letter, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'letter-confirm', l.id, l.createdAt);
  const statusToken = (l: Pick<Letter, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'letter-status', l.id, l.createdAt);
  const statusUrl = (l: Pick<Letter, 'id' | 'createdAt'>) => `${config.baseUrl}/letters/${statusToken(l)}`;

  // Every queued mail names its demand: titles are read once a minute, not once a letter.
  const titles = new Map<string, { title: string; at: number }>();
  /** Read through `repo`: inside a transaction, the transaction's own (never a second connection). */
  async function demandTitle(demandId: number, lang: Lang, repo: LettersRepository = ctx.repo): Promise<string> {
    const key = `${demandId}:${lang}`;
    const now = Date.now();
    let cached = titles.get(key);
    if (!cached || now - cached.at > 60_000) {
      titles.set(key, (cached = { title: (await repo.demandById(demandId, lang))?.title ?? '', at: now }));
    }
    return cached.title;
  }

  async function subjectFor(demandId: number, name: string, lang: Lang, repo?: LettersRepository): Promise<string> {
    return i18n.t('letterEmail.letter.subject', {
      demandTitle: await demandTitle(demandId, lang, repo),
      name,
      lng: lang,
    }) as string;
  }

  /** What every mail to the writer says of the letter: who it is to, about what, where to follow it. */
  async function aboutLetter(repo: LettersRepository, letter: Letter, target: Target, subjectKey: string) {
    return {
      subjectKey,
      name: greetingName(letter.name),
      targetName: target.name,
      demandTitle: await demandTitle(letter.demandId, letter.locale, repo),
      statusUrl: statusUrl(letter),
    };
  }

  return {
    confirmToken,
    statusToken,
    demandTitle,
    subjectFor,

    /** The link to confirm the letter; by post, the mail says it then joins the next hand-in pack. */
    async queueConfirmation(tx: Executor, repo: LettersRepository, letter: Letter, target: Target) {
      await outbox.enqueue(tx, {
        kind: 'letter_confirmation',
        to: letter.email,
        template: 'letter-confirm',
        locale: letter.locale,
        params: {
          subjectKey: 'letterEmail.confirm.subject',
          name: greetingName(letter.name),
          targetName: target.name,
          demandTitle: await demandTitle(letter.demandId, letter.locale, repo),
          confirmUrl: `${config.baseUrl}/letters/${confirmToken(letter)}/confirm`,
          statusUrl: statusUrl(letter),
          expiresInDays: rules.pendingTtlDays,
          byPost: letter.delivery === 'post',
          letterId: letter.id,
        },
      });
    },

    /** To a supporter sending the letter themselves: the link to say it is sent, and nothing of their text. */
    async queueSelfLink(tx: Executor, repo: LettersRepository, letter: Letter, target: Target) {
      await outbox.enqueue(tx, {
        kind: 'letter_self',
        to: letter.email,
        template: 'letter-self',
        locale: letter.locale,
        params: await aboutLetter(repo, letter, target, 'letterEmail.self.subject'),
      });
    },

    async queueReminder(tx: Executor, repo: LettersRepository, letter: Letter, target: Target) {
      await outbox.enqueue(tx, {
        kind: 'letter_again',
        to: letter.email,
        template: 'letter-again',
        locale: letter.locale,
        params: await aboutLetter(repo, letter, target, 'letterEmail.again.subject'),
      });
    },

    /**
     * The one mail a writer gets when their letter was handed in with a pack (the address is theirs:
     * they confirmed the letter from it). With the letter's text when they asked for a copy.
     */
    async queueHandedIn(
      tx: Executor,
      repo: LettersRepository,
      letter: Letter,
      target: Target,
      handedInAt: number,
      when: { notBefore?: number; messageId?: string } = {},
    ) {
      await outbox.enqueue(tx, {
        kind: 'letter_handed_in',
        to: letter.email,
        template: 'letter-handed-in',
        locale: letter.locale,
        notBefore: when.notBefore,
        messageId: when.messageId,
        params: {
          ...(await aboutLetter(repo, letter, target, 'letterEmail.handedIn.subject')),
          date: formatDay(handedInAt, letter.locale === 'fr' ? 'fr' : 'en'),
          copy: letter.copyRequested,
          letterId: letter.id,
        },
      });
    },

    /**
     * The letter itself: From the platform (so it passes DMARC), Reply-To the supporter, To the target's
     * address read from the targets table at this moment. A copy to the supporter when they asked.
     */
    async queueDelivery(tx: Executor, repo: LettersRepository, letter: Letter, target: Target & { email: string }) {
      await outbox.enqueue(tx, {
        kind: 'letter',
        to: target.email,
        template: 'letter',
        locale: letter.lang,
        params: {
          subjectKey: 'letterEmail.letter.subject',
          footerKey: 'letterEmail.letter.footer',
          letterId: letter.id,
          replyTo: letter.email,
          name: letter.name,
          demandTitle: await demandTitle(letter.demandId, letter.lang, repo),
        },
      });
      if (letter.copyRequested) {
        await outbox.enqueue(tx, {
          kind: 'letter_copy',
          to: letter.email,
          template: 'letter-copy',
          locale: letter.locale,
          params: {
            subjectKey: 'letterEmail.copy.subject',
            name: letter.name,
            targetName: target.name,
            demandTitle: await demandTitle(letter.demandId, letter.locale, repo),
            letterId: letter.id,
            statusUrl: statusUrl(letter),
          },
        });
      }
    },
  };
}
