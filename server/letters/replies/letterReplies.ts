import type { Executor } from '../../db/store';
import type { Lang } from '../../i18n/i18n';
import { greetingName } from '../../security/nameRules';
import { signToken, tokenId, verifyToken } from '../../security/tokens';
import { targetsRepository, type Target } from '../../targets/targetsRepository';
import type { LettersContext } from '../letterContext';
import { formatDay } from '../../time/dates';
import type { LetterMail } from '../letterMail';
import { lettersRepository, type Demand, type Letter, type LettersRepository } from '../lettersRepository';
import { askedStates, replyTimes, type ReplyAnswer } from './replyAnswers';
import { repliesRepository, sweepChunk, type Reply, type ResponsivenessRow } from './repliesRepository';

/** What the answer page shows: the letter it asks about, and the answer given so far. */
export interface ReplyPage {
  letter: Letter;
  target: Target;
  demand: Demand;
  reply: Reply | undefined;
  /** Answers given after this time are kept but not counted (4 weeks after the letter went out). */
  countsUntil: number;
  /** True once that time has passed. */
  late: boolean;
}

/** One pass may not go on for ever (chunks that others claimed meanwhile are not due any more). */
const maxChunks = 50;

const isAskable = (letter: Letter | undefined): letter is Letter & { sentAt: number } =>
  !!letter &&
  (askedStates as readonly string[]).includes(letter.state) &&
  letter.sentAt !== null &&
  // An anonymised letter has a blank address: nobody to ask, and nothing to answer for.
  letter.email !== '';

/**
 * "Did you get a reply?" (mySociety WriteToThem's questionnaire): asked by mail 14 days after a
 * letter went out, reminded at 21 days, answered on a page by POST only; answers given within 4
 * weeks of the letter make the responsiveness table.
 */
export function letterReplies(ctx: LettersContext, mail: LetterMail) {
  const { clock } = ctx;
  const { config, outbox } = ctx.deps;

  // The responsiveness tables read lately, by demand id (0: every demand).
  const tables = new Map<number, { at: number; rows: ResponsivenessRow[] }>();

  const replyToken = (l: Pick<Letter, 'id' | 'createdAt'>) =>
    signToken(config.secret, 'letter-reply', l.id, l.createdAt);

  async function queueQuestion(
    tx: Executor,
    repo: LettersRepository,
    letter: Letter & { sentAt: number },
    reminder: boolean,
  ) {
    const target = (await targetsRepository(tx).findById(letter.targetId))!;
    const date = (at: number) => formatDay(at, letter.locale === 'fr' ? 'fr' : 'en');
    await outbox.enqueue(tx, {
      kind: reminder ? 'letter_reply_reminder' : 'letter_reply_question',
      to: letter.email,
      template: 'letter-reply',
      locale: letter.locale,
      params: {
        subjectKey: reminder ? 'replyEmail.reminderSubject' : 'replyEmail.subject',
        footerKey: 'replyEmail.footer',
        name: greetingName(letter.name),
        targetName: target.name,
        demandTitle: await mail.demandTitle(letter.demandId, letter.locale, repo),
        sentDate: date(letter.sentAt),
        countsUntil: date(letter.sentAt + replyTimes.countWithin),
        selfSent: letter.state === 'self_sent',
        reminder,
        replyUrl: `${config.baseUrl}/letters/${replyToken(letter)}/reply`,
        responsivenessUrl: `${config.baseUrl}/responsiveness`,
        // Retention finds a letter's mail by it (and takes it back with the letter's anonymisation).
        letterId: letter.id,
      },
    });
  }

  /**
   * Claims each letter of `ids` (the question's row, or its reminder's stamp) and queues its mail, in
   * one transaction: a letter another process claimed first gets nothing from this one.
   */
  function askChunk(ids: number[], reminder: boolean): Promise<number> {
    return ctx.store.transaction(async (tx) => {
      const now = clock();
      const letters = lettersRepository(tx);
      const replies = repliesRepository(tx);
      let queued = 0;
      for (const id of ids) {
        const letter = await letters.findById(id);
        // Read again in the transaction: anonymised, erased or taken back since the list was read.
        if (!isAskable(letter) || !letter.askReply) continue;
        const claimed = reminder ? await replies.claimReminder(id, now) : await replies.claimQuestion(id, now);
        if (!claimed) continue;
        await queueQuestion(tx, letters, letter, reminder);
        queued++;
      }
      return queued;
    });
  }

  async function findByToken(token: string): Promise<(Letter & { sentAt: number }) | undefined> {
    const id = tokenId(token);
    const letter = id === undefined ? undefined : await ctx.repo.findById(id);
    if (!letter || !verifyToken(config.secret, 'letter-reply', token, letter.createdAt)) return undefined;
    return isAskable(letter) ? letter : undefined;
  }

  return {
    replyToken,

    /**
     * The questionnaire's part of the sweep: the questions due (14 days after the letter, never once
     * its answers would no longer count), then the reminders (21 days after, at least a week after the
     * question, while unanswered). Safe to run in several processes at once.
     */
    async askReplies(): Promise<{ asked: number; reminded: number }> {
      const now = clock();
      const sentAfter = now - replyTimes.countWithin;
      let asked = 0;
      let reminded = 0;
      const questions = repliesRepository(ctx.store);
      for (let i = 0; i < maxChunks; i++) {
        const ids = await questions.dueQuestions({
          sentBefore: now - replyTimes.askAfter,
          sentAfter,
          recordedBefore: now - replyTimes.packUndoWindow,
        });
        asked += await askChunk(ids, false);
        if (ids.length < sweepChunk) break;
      }
      for (let i = 0; i < maxChunks; i++) {
        const ids = await questions.dueReminders({
          sentBefore: now - replyTimes.remindAfter,
          sentAfter,
          askedBefore: now - replyTimes.remindGap,
        });
        reminded += await askChunk(ids, true);
        if (ids.length < sweepChunk) break;
      }
      if (asked + reminded > 0)
        ctx.deps.logger?.info({ asked, reminded }, 'letter writers asked whether they got a reply');
      return { asked, reminded };
    },

    /** The question's page for the link mailed to the writer (a GET records nothing). */
    async replyPage(token: string, lang: Lang): Promise<ReplyPage | undefined> {
      const letter = await findByToken(token);
      if (!letter) return undefined;
      const countsUntil = letter.sentAt + replyTimes.countWithin;
      return {
        letter,
        target: (await ctx.targets.findById(letter.targetId))!,
        demand: (await ctx.repo.demandById(letter.demandId, lang))!,
        reply: await repliesRepository(ctx.store).replyOf(letter.id),
        countsUntil,
        late: clock() > countsUntil,
      };
    },

    /**
     * Records the writer's answer (replacing any earlier one). It counts when given within 4 weeks of
     * the letter; a later one is kept, and the last one given in time still counts. Undefined for a
     * link that names no letter (or one anonymised since).
     */
    async answerReply(token: string, answer: ReplyAnswer): Promise<{ counted: boolean } | undefined> {
      const found = await findByToken(token);
      if (!found) return undefined;
      return ctx.store.transaction(async (tx) => {
        const now = clock();
        const letter = await lettersRepository(tx).findById(found.id);
        if (!isAskable(letter) || letter.createdAt !== found.createdAt) return undefined;
        const counted = now <= letter.sentAt + replyTimes.countWithin;
        await repliesRepository(tx).answer(letter.id, answer, counted, now);
        return { counted };
      });
    },

    /**
     * Per delegation, for one demand or every one: letters out, counted answers, replies. Public pages
     * read it through a cache kept as long as they are (COUNT_REFRESH_SECONDS): it counts rows.
     */
    async responsiveness(demandId?: number): Promise<ResponsivenessRow[]> {
      const key = demandId ?? 0;
      const now = clock();
      const kept = tables.get(key);
      if (kept && now - kept.at < config.countRefreshSeconds * 1000) return kept.rows;
      const rows = await repliesRepository(ctx.store).responsiveness(demandId);
      tables.set(key, { at: now, rows });
      return rows;
    },
  };
}
