import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../../db/store';
import { askedStates, excludedAnswers, repliedAnswers, replyAnswers, type ReplyAnswer } from './replyAnswers';

/** How many letters one pass of the sweep asks about (or reminds) per transaction. */
export const sweepChunk = 200;

const list = (values: readonly string[]) => sql.join(values.map((v) => sql.lit(v)));
const asked = list(askedStates);
const counted = list(replyAnswers.filter((a) => !excludedAnswers.includes(a)));

// A letter is asked about when it went out in the window, its writer did not say no, it is not
// anonymised (a blank address), and nobody asked yet. A letter handed in with a pack waits out the day
// its record may be taken back (a pack recorded late may be dated weeks before).
type DueArgs = { sentBefore: number; sentAfter: number; recordedBefore: number };
const dueQuestions = prepared(
  (_qb, p: Params<DueArgs>) =>
    sql<{ id: number }>`SELECT l.id FROM letters l
     WHERE l.state IN (${asked}) AND l.sent_at <= ${p.sentBefore} AND l.sent_at > ${p.sentAfter}
       AND l.ask_reply = 1 AND l.email <> ''
       AND (l.delivery <> 'post' OR l.updated_at <= ${p.recordedBefore})
       AND NOT EXISTS (SELECT 1 FROM letter_replies r WHERE r.letter_id = l.id)
     ORDER BY l.sent_at, l.id
     LIMIT ${sql.lit(sweepChunk)}`,
);
const dueReminders = prepared(
  (_qb, p: Params<{ sentBefore: number; sentAfter: number; askedBefore: number }>) =>
    sql<{ id: number }>`SELECT l.id FROM letter_replies r JOIN letters l ON l.id = r.letter_id
     WHERE r.answer IS NULL AND r.reminded_at IS NULL AND r.asked_at <= ${p.askedBefore}
       AND l.state IN (${asked}) AND l.sent_at <= ${p.sentBefore} AND l.sent_at > ${p.sentAfter}
       AND l.ask_reply = 1 AND l.email <> ''
     ORDER BY r.asked_at, l.id
     LIMIT ${sql.lit(sweepChunk)}`,
);
// The claims: the row's key (or its still-empty reminder) lets one process, and one only, queue the mail.
const claimQuestion = prepared((qb, p: Params<{ id: number; now: number }>) =>
  qb
    .insertInto('letter_replies')
    .values({ letter_id: p.id, asked_at: p.now })
    .onConflict((oc) => oc.column('letter_id').doNothing()),
);
const claimReminder = prepared((qb, p: Params<{ id: number; now: number }>) =>
  qb
    .updateTable('letter_replies')
    .set({ reminded_at: p.now })
    .where('letter_id', '=', p.id)
    .where('answer', 'is', null)
    .where('reminded_at', 'is', null),
);
const replyOf = prepared((qb, p: Params<{ id: number }>) =>
  qb
    .selectFrom('letter_replies')
    .select([
      'asked_at as askedAt',
      'reminded_at as remindedAt',
      'answer',
      'answered_at as answeredAt',
      'counted_answer as countedAnswer',
    ])
    .where('letter_id', '=', p.id),
);
// The answer is always kept; the counted one changes only when the new answer is in time (`counted`).
const answer = prepared(
  (qb, p: Params<{ id: number; answer: ReplyAnswer; counted: ReplyAnswer | null; now: number }>) =>
    qb
      .insertInto('letter_replies')
      .values({ letter_id: p.id, asked_at: p.now, answer: p.answer, answered_at: p.now, counted_answer: p.counted })
      .onConflict((oc) =>
        oc.column('letter_id').doUpdateSet((eb) => ({
          answer: eb.ref('excluded.answer'),
          answered_at: eb.ref('excluded.answered_at'),
          counted_answer: sql<ReplyAnswer | null>`coalesce(excluded.counted_answer, letter_replies.counted_answer)`,
        })),
      ),
);

export interface ResponsivenessRow {
  targetId: number;
  targetName: string;
  country: string;
  /** Letters delivered (by email or in a hand-in pack) or sent by their writers. */
  letters: number;
  /** Answers counted (given in time), "I did not expect one" left out. */
  answers: number;
  /** Of those, "yes" and "yes, but it did not address my points". */
  replied: number;
  /** Answers "I did not expect one" given in time: left out of `answers`. */
  notExpected: number;
}

type RawRow = { [K in keyof ResponsivenessRow]: ResponsivenessRow[K] | string };

const tally = (where: ReturnType<typeof sql>) =>
  sql<RawRow>`SELECT t.id AS "targetId", t.name AS "targetName", t.country_code AS country,
       count(*) AS letters,
       sum(CASE WHEN r.counted_answer IN (${counted}) THEN 1 ELSE 0 END) AS answers,
       sum(CASE WHEN r.counted_answer IN (${list(repliedAnswers)}) THEN 1 ELSE 0 END) AS replied,
       sum(CASE WHEN r.counted_answer IN (${list(excludedAnswers)}) THEN 1 ELSE 0 END) AS "notExpected"
     FROM letters l JOIN targets t ON t.id = l.target_id
       LEFT JOIN letter_replies r ON r.letter_id = l.id
     WHERE l.state IN (${asked}) AND ${where}
     GROUP BY t.id, t.name, t.country_code
     ORDER BY t.country_code, t.name, t.id`;
const everyDemand = prepared(() => tally(sql`1 = 1`));
const oneDemand = prepared((_qb, p: Params<{ demandId: number }>) => tally(sql`l.demand_id = ${p.demandId}`));

// PostgreSQL answers count(*) and sum() as strings (bigint, numeric).
const toRow = (r: RawRow): ResponsivenessRow => ({
  targetId: Number(r.targetId),
  targetName: String(r.targetName),
  country: String(r.country),
  letters: Number(r.letters),
  answers: Number(r.answers),
  replied: Number(r.replied),
  notExpected: Number(r.notExpected),
});

export interface Reply {
  askedAt: number;
  remindedAt: number | null;
  answer: ReplyAnswer | null;
  answeredAt: number | null;
  countedAnswer: ReplyAnswer | null;
}

export type RepliesRepository = ReturnType<typeof repliesRepository>;

/** The questionnaire's rows, on the store or in a caller's transaction. */
export function repliesRepository(db: Executor) {
  return {
    /** Letters due their question: sent in (sentAfter, sentBefore], none asked yet (at most a chunk). */
    dueQuestions: (args: DueArgs): Promise<number[]> => db.all(dueQuestions, args).then((r) => r.map((x) => x.id)),
    dueReminders: (args: { sentBefore: number; sentAfter: number; askedBefore: number }): Promise<number[]> =>
      db.all(dueReminders, args).then((r) => r.map((x) => x.id)),
    /** True for the one caller that records the question first: it, and only it, mails it. */
    claimQuestion: async (id: number, now: number): Promise<boolean> =>
      (await db.run(claimQuestion, { id, now })) === 1,
    claimReminder: async (id: number, now: number): Promise<boolean> =>
      (await db.run(claimReminder, { id, now })) === 1,
    replyOf: (id: number): Promise<Reply | undefined> => db.first(replyOf, { id }),
    /** Records `answer`; it becomes the counted one only when `inTime`. */
    async answer(id: number, given: ReplyAnswer, inTime: boolean, now: number): Promise<void> {
      await db.run(answer, { id, answer: given, counted: inTime ? given : null, now });
    },
    /** Per delegation: letters out, counted answers and replies, for one demand or all of them. */
    async responsiveness(demandId?: number): Promise<ResponsivenessRow[]> {
      const rows = demandId === undefined ? await db.all(everyDemand) : await db.all(oneDemand, { demandId });
      return rows.map(toRow);
    },
  };
}
