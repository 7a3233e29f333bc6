import { dayMs } from '../../time/dates';

/**
 * What a writer may answer to "Did you get a reply?", in the order the page offers them. The
 * responsiveness table counts `yes` and `yes_unaddressed` as a reply, `acknowledgement` and `no` as
 * none, and leaves `not_expected` out (a writer who expected no answer says nothing of the delegation).
 */
export const replyAnswers = ['yes', 'yes_unaddressed', 'acknowledgement', 'no', 'not_expected'] as const;
export type ReplyAnswer = (typeof replyAnswers)[number];

export const repliedAnswers: readonly ReplyAnswer[] = ['yes', 'yes_unaddressed'];
export const excludedAnswers: readonly ReplyAnswer[] = ['not_expected'];

export function isReplyAnswer(value: unknown): value is ReplyAnswer {
  return typeof value === 'string' && (replyAnswers as readonly string[]).includes(value);
}

/** WriteToThem's timetable: asked two weeks after, reminded a week later, counted within four weeks. */
export const replyTimes = {
  askAfter: 14 * dayMs,
  remindAfter: 21 * dayMs,
  /** The least time between the question and its reminder (when the question went out late). */
  remindGap: 7 * dayMs,
  countWithin: 28 * dayMs,
  /** A letter recorded as handed in with a pack may be taken back within a day: asked only after. */
  packUndoWindow: dayMs,
} as const;

/** Letters that reached their delegation (by email or a hand-in pack) or that their writer sent. */
export const askedStates = ['sent', 'self_sent'] as const;
