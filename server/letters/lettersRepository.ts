import { sql } from 'kysely';
import { prepared, type Executor, type Params, type Prepared } from '../db/store';
import type { Lang } from '../i18n/i18n';
import type { LetterState } from './letterStates';
import { letterPacksRepository } from './letterPacksRepository';
import { bandCount, fromBlob } from './similarity';
import type { Demand, HeldLetter, Letter, LetterCountryCount, NewLetter, SimilarCandidate } from './letterTypes';

// The types stay importable from here, where callers look for them.
export type * from './letterTypes';

/** A bound on the near-duplicate check, whatever happens to the bands. */
const maxCandidates = 5000;

const columns = sql`id, demand_id AS "demandId", target_id AS "targetId", country_code AS country, delivery, name,
  email, email_canonical AS "emailCanonical", town, lang, locale, copy_requested AS "copyRequested", state,
  hold_reason AS "holdReason", mails_sent AS "mailsSent", created_at AS "createdAt", confirmed_at AS "confirmedAt",
  sent_at AS "sentAt", ask_reply AS "askReply"`;

type RawLetter = Omit<Letter, 'copyRequested' | 'askReply'> & { copyRequested: number; askReply: number };

const toLetter = (r: RawLetter): Letter => ({ ...r, copyRequested: r.copyRequested === 1, askReply: r.askReply === 1 });

/** Which timestamp a move into a state records. */
const stampOf: Partial<Record<LetterState, 'confirmed_at' | 'sent_at'>> = {
  ready: 'confirmed_at',
  held: 'confirmed_at',
  sent: 'sent_at',
  self_sent: 'sent_at',
};

// Texts are stored per language; a missing translation falls back to English. The one chosen:
const demandTextLang = (lang: unknown) =>
  sql`(SELECT t.lang FROM demand_texts t WHERE t.demand_id = d.id
       ORDER BY t.lang = ${lang} DESC, t.lang = 'en' DESC LIMIT 1)`;

type Row = Omit<NewLetter, 'ownWords' | 'body' | 'copyRequested' | 'askReply'> & {
  copyRequested: number;
  askReply: number;
};

const insert = prepared((qb, p: Params<Row & { mailsSent: number }>) =>
  qb
    .insertInto('letters')
    .values({
      demand_id: p.demandId,
      target_id: p.targetId,
      country_code: p.country,
      delivery: p.delivery,
      name: p.name,
      email: p.email,
      email_canonical: p.emailCanonical,
      town: p.town,
      lang: p.lang,
      locale: p.locale,
      copy_requested: p.copyRequested as 0 | 1,
      ask_reply: p.askReply as 0 | 1,
      fingerprint: p.fingerprint,
      ip_hash: p.ipHash,
      mails_sent: p.mailsSent,
      day: p.day,
      created_at: p.now,
      updated_at: p.now,
      source: p.source,
    })
    .returning('id'),
);
const insertText = prepared((qb, p: Params<{ id: number; ownWords: string; body: string }>) =>
  qb.insertInto('letter_texts').values({ letter_id: p.id, own_words: p.ownWords, body: p.body }),
);
// Written again before anyone confirmed it: new words, and a new moment, later than the last even
// within the same millisecond, so that the links mailed before (signed over it) stop working.
type Rewrite = Params<Omit<Row, 'demandId' | 'targetId' | 'country' | 'emailCanonical' | 'day'> & { id: number }>;
const rewritten = (p: Rewrite) =>
  sql`delivery = ${p.delivery}, name = ${p.name}, email = ${p.email}, town = ${p.town}, lang = ${p.lang},
    locale = ${p.locale}, copy_requested = ${p.copyRequested}, ask_reply = ${p.askReply}, fingerprint = ${p.fingerprint}, ip_hash = ${p.ipHash},
    source = ${p.source},
    created_at = CASE WHEN created_at < ${p.now} THEN ${p.now} ELSE created_at + 1 END, updated_at = ${p.now}`;
const rewrite = prepared(
  (_qb, p: Rewrite) => sql`UPDATE letters SET ${rewritten(p)} WHERE id = ${p.id} AND state = 'pending'`,
);
// The same, counting the mail its new link goes out in (the count is not a parameter: PostgreSQL
// wants to know a parameter's type before it adds it to anything).
const rewriteMailed = prepared(
  (_qb, p: Rewrite) =>
    sql`UPDATE letters SET ${rewritten(p)}, mails_sent = mails_sent + 1 WHERE id = ${p.id} AND state = 'pending'`,
);
const rewriteText = prepared((qb, p: Params<{ id: number; ownWords: string; body: string }>) =>
  qb.updateTable('letter_texts').set({ own_words: p.ownWords, body: p.body }).where('letter_id', '=', p.id),
);
const dropBands = prepared((qb, p: Params<{ id: number }>) =>
  qb.deleteFrom('letter_bands').where('letter_id', '=', p.id),
);
const textOf = prepared(
  (_qb, p: Params<{ id: number }>) =>
    sql<{ ownWords: string; body: string }>`SELECT own_words AS "ownWords", body FROM letter_texts
     WHERE letter_id = ${p.id}`,
);
// A fingerprint has exactly bandCount band keys: one statement writes them all.
type BandRow = { demandId: number; id: number; now: number } & Record<`k${number}`, number>;
const insertBands = prepared((qb, p: Params<BandRow>) =>
  qb
    .insertInto('letter_bands')
    .values(
      Array.from({ length: bandCount }, (_, i) => ({
        demand_id: p.demandId,
        band_key: p[`k${i}`]!,
        letter_id: p.id,
        created_at: p.now,
      })),
    )
    .onConflict((oc) => oc.doNothing()),
);
const byId = prepared(
  (_qb, p: Params<{ id: number }>) => sql<RawLetter>`SELECT ${columns} FROM letters WHERE id = ${p.id}`,
);
const withPrint = prepared(
  (_qb, p: Params<{ id: number }>) =>
    sql<RawLetter & { fingerprint: Buffer }>`SELECT ${columns}, fingerprint FROM letters WHERE id = ${p.id}`,
);
const sameDay = prepared(
  (_qb, p: Params<{ demandId: number; targetId: number; emailCanonical: string; day: string }>) =>
    sql<RawLetter>`SELECT ${columns} FROM letters
     WHERE demand_id = ${p.demandId} AND target_id = ${p.targetId} AND email_canonical = ${p.emailCanonical}
       AND day = ${p.day}`,
);
const bodyOf = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('letter_texts').select('body').where('letter_id', '=', p.id),
);
const targetEmailOf = prepared(
  (_qb, p: Params<{ id: number }>) =>
    // A target that asked for paper has no address to mail letters to, whatever email it has.
    sql<{ email: string | null }>`SELECT CASE WHEN t.force_post = 1 THEN NULL ELSE t.email END AS email
     FROM letters l JOIN targets t ON t.id = l.target_id WHERE l.id = ${p.id}`,
);
const stateOf = prepared(
  (_qb, p: Params<{ id: number }>) =>
    sql<Pick<Letter, 'state' | 'demandId' | 'country'>>`SELECT state, demand_id AS "demandId",
       country_code AS country FROM letters WHERE id = ${p.id}`,
);
const countMail = prepared(
  (_qb, p: Params<{ id: number }>) => sql`UPDATE letters SET mails_sent = mails_sent + 1 WHERE id = ${p.id}`,
);
const mailsToAddress = prepared(
  (_qb, p: Params<{ emailCanonical: string; day: string }>) =>
    sql<{ n: number }>`SELECT coalesce(sum(mails_sent), 0) AS n FROM letters
     WHERE email_canonical = ${p.emailCanonical} AND day = ${p.day}`,
);
const touch = prepared((qb, p: Params<{ id: number; now: number }>) =>
  qb.updateTable('letters').set({ updated_at: p.now }).where('id', '=', p.id),
);
/** One more letter counted for its demand and the target's country, as sent or self-sent. */
const bumpQuery = (column: 'sent' | 'self_sent') =>
  prepared((qb, p: Params<{ demandId: number; country: string }>) =>
    qb
      .insertInto('letter_country_counts')
      .values({ demand_id: p.demandId, country_code: p.country, [column]: 1 })
      .onConflict((oc) =>
        oc
          .columns(['demand_id', 'country_code'])
          .doUpdateSet((eb) => ({ [column]: eb(`letter_country_counts.${column}`, '+', 1) })),
      ),
  );
const bump = { sent: bumpQuery('sent'), self_sent: bumpQuery('self_sent') };
// Candidates share at least one band with the letter; the band index finds them without a scan.
// The limit is written into the SQL: bound as a parameter, it made this query twice as slow.
// The bandCount keys are bound one by one, as they cost less than a list passed whole.
type CandidateArgs = { demandId: number; since: number; id: number } & Record<`k${number}`, number>;
const candidates = prepared(
  (_qb, p: Params<CandidateArgs>) =>
    sql<SimilarCandidate>`SELECT id, email_canonical AS "emailCanonical", fingerprint FROM letters
     WHERE id IN (SELECT letter_id FROM letter_bands
                  WHERE demand_id = ${p.demandId}
                    AND band_key IN (${sql.join(Array.from({ length: bandCount }, (_, i) => p[`k${i}`]))})
                    AND created_at >= ${p.since})
       AND id <> ${p.id}
       -- Only letters their writers confirmed: unconfirmed ones from throwaway addresses must not be
       -- able to get real supporters' letters held.
       AND state IN ('ready', 'sent', 'failed', 'held', 'self_sent')
     LIMIT ${sql.lit(maxCandidates)}`,
);
const expire = prepared((qb, p: Params<{ before: number; now: number }>) =>
  qb
    .updateTable('letters')
    .set({ state: 'expired', updated_at: p.now })
    .where('state', '=', 'pending')
    .where('created_at', '<', p.before),
);
const pruneBands = prepared((qb, p: Params<{ before: number }>) =>
  qb.deleteFrom('letter_bands').where('created_at', '<', p.before),
);
const held = prepared(
  () =>
    sql<HeldLetter>`SELECT l.id, d.slug AS "demandSlug", l.country_code AS country, l.name, t.own_words AS "ownWords",
       l.hold_reason AS "holdReason", l.created_at AS "createdAt"
     FROM letters l JOIN demands d ON d.id = l.demand_id JOIN letter_texts t ON t.letter_id = l.id
     WHERE l.state = 'held' ORDER BY l.created_at, l.id`,
);
const countryCounts = prepared(
  (_qb, p: Params<{ demandId: number }>) =>
    sql<LetterCountryCount>`SELECT country_code AS country, sent, posted, self_sent AS "selfSent"
     FROM letter_country_counts
     WHERE demand_id = ${p.demandId} AND (sent > 0 OR self_sent > 0)
     ORDER BY sent + self_sent DESC, country_code`,
);
const demandWhere = (where: ReturnType<typeof sql>, lang: unknown) =>
  sql<Demand>`SELECT d.id, d.slug, dt.title, dt.summary, p.slug AS "petitionSlug"
     FROM demands d JOIN demand_texts dt ON dt.demand_id = d.id AND dt.lang = ${demandTextLang(lang)}
     LEFT JOIN petitions p ON p.demand_id = d.id
     WHERE ${where}`;
const demandBySlug = prepared((_qb, p: Params<{ slug: string; lang: Lang }>) =>
  demandWhere(sql`d.slug = ${p.slug}`, p.lang),
);
const demandById = prepared((_qb, p: Params<{ id: number; lang: Lang }>) => demandWhere(sql`d.id = ${p.id}`, p.lang));

/** The compare-and-set moves, one statement per (from, to), compiled when first used. */
type MoveArgs = { id: number; now: number; reason: string | null; createdAt: number | null };
const moves = new Map<string, Prepared<MoveArgs, unknown>>();
/** The move from → to; `versioned`: only the version of the letter written at `createdAt`. */
function move(from: LetterState, to: LetterState, versioned: boolean) {
  const key = `${from}>${to}${versioned ? '@' : ''}`;
  const stamp = stampOf[to];
  let query = moves.get(key);
  if (!query) {
    query = prepared((qb, p: Params<MoveArgs>) => {
      const update = qb
        .updateTable('letters')
        .set({
          state: to,
          updated_at: p.now,
          ...(stamp ? { [stamp]: p.now } : {}),
          ...(to === 'held' ? { hold_reason: p.reason } : {}),
        })
        .where('id', '=', p.id)
        .where('state', '=', from);
      return versioned ? update.where('created_at', '=', p.createdAt as number) : update;
    });
    moves.set(key, query);
  }
  return query;
}

const flags = (l: Pick<NewLetter, 'copyRequested' | 'askReply'>) => ({
  copyRequested: l.copyRequested ? 1 : 0,
  askReply: l.askReply ? 1 : 0,
});

const keyArgs = (keys: number[]) => Object.fromEntries(keys.map((key, i) => [`k${i}`, key]));

export type LettersRepository = ReturnType<typeof lettersRepository>;

/** Letters on the store: on the database, or inside a caller's transaction. */
export function lettersRepository(db: Executor) {
  async function writeBands(demandId: number, id: number, bandKeys: number[], now: number): Promise<void> {
    if (bandKeys.length === 0) return; // an empty fingerprint has no bands
    if (bandKeys.length !== bandCount) throw new Error(`expected ${bandCount} band keys, got ${bandKeys.length}`);
    await db.run(insertBands, { demandId, id, now, ...keyArgs(bandKeys) } as BandRow);
  }

  return {
    // Letters in hand-in packs: see letterPacksRepository (the pack recorder calls these).
    ...letterPacksRepository(db),
    /** Inserts the letter and its similarity bands; returns its id. */
    async insert(letter: NewLetter, bandKeys: number[], mailsSent: number): Promise<number> {
      const { ownWords, body, ...row } = letter;
      const { id } = (await db.first(insert, { ...row, ...flags(row), source: row.source ?? null, mailsSent }))!;
      await db.run(insertText, { id, ownWords, body });
      await writeBands(letter.demandId, id, bandKeys, letter.now);
      return id;
    },
    /**
     * Replaces a letter nobody has confirmed yet with a new version, counting one more mail when one
     * is `mailed`; false if it is no longer pending. The caller keeps the same demand, target,
     * canonical email and day.
     */
    async rewrite(id: number, letter: NewLetter, bandKeys: number[], mailed: boolean): Promise<boolean> {
      const { ownWords, body, ...row } = letter;
      const args = { ...row, id, ...flags(row), source: row.source ?? null };
      if ((await db.run(mailed ? rewriteMailed : rewrite, args)) !== 1) return false;
      await db.run(rewriteText, { id, ownWords, body });
      await db.run(dropBands, { id });
      await writeBands(letter.demandId, id, bandKeys, letter.now);
      return true;
    },
    async findById(id: number): Promise<Letter | undefined> {
      const row = await db.first(byId, { id });
      return row && toLetter(row);
    },
    /** The letter and its fingerprint, in one read (for a confirmation). */
    async findWithFingerprint(id: number): Promise<{ letter: Letter; print: Uint32Array } | undefined> {
      const row = await db.first(withPrint, { id });
      if (!row) return undefined;
      const { fingerprint, ...letter } = row;
      return { letter: toLetter(letter), print: fromBlob(fingerprint) };
    },
    async findSameDay(
      demandId: number,
      targetId: number,
      emailCanonical: string,
      day: string,
    ): Promise<Letter | undefined> {
      const row = await db.first(sameDay, { demandId, targetId, emailCanonical, day });
      return row && toLetter(row);
    },
    /** The supporter's own words and the letter's full text. */
    textOf: (id: number): Promise<{ ownWords: string; body: string } | undefined> => db.first(textOf, { id }),
    bodyOf: async (id: number): Promise<string | undefined> => (await db.first(bodyOf, { id }))?.body,
    /** The address of the letter's target as it is now (null when it has none, or asked for paper). */
    async targetEmailOf(id: number): Promise<string | null> {
      return ((await db.first(targetEmailOf, { id }))?.email ?? '').trim() || null;
    },
    /** Only what settling a sent letter needs (not its text). */
    stateOf: (id: number): Promise<Pick<Letter, 'state' | 'demandId' | 'country'> | undefined> =>
      db.first(stateOf, { id }),
    /** How many letter mails a canonical address was sent on a day, whatever the demand and target. */
    async mailsToAddress(emailCanonical: string, day: string): Promise<number> {
      return (await db.first(mailsToAddress, { emailCanonical, day }))!.n;
    },
    async countMailSent(id: number): Promise<void> {
      await db.run(countMail, { id });
    },
    /** An attempt that changes nothing else is still a write (and a commit on disk), as every other is. */
    async touch(id: number, now: number): Promise<void> {
      await db.run(touch, { id, now });
    },
    /**
     * Compare-and-set: moves the letter only if it is in `from` (and, given `createdAt`, still the
     * version written then: a rewrite committed meanwhile by someone else leaves it alone).
     */
    async move(
      id: number,
      from: LetterState,
      to: LetterState,
      now: number,
      reason: string | null = null,
      createdAt?: number,
    ) {
      const versioned = createdAt !== undefined;
      return (await db.run(move(from, to, versioned), { id, now, reason, createdAt: createdAt ?? null })) === 1;
    },
    async countSent(demandId: number, country: string, how: 'sent' | 'self_sent'): Promise<void> {
      await db.run(bump[how], { demandId, country });
    },
    /** Letters of the demand since `since` sharing a band with these keys, at most 5,000. */
    similarCandidates(q: {
      demandId: number;
      keys: number[];
      since: number;
      excludeId: number;
    }): Promise<SimilarCandidate[]> {
      if (q.keys.length !== bandCount) throw new Error(`expected ${bandCount} band keys, got ${q.keys.length}`);
      const args = { demandId: q.demandId, since: q.since, id: q.excludeId, ...keyArgs(q.keys) };
      return db.all(candidates, args as CandidateArgs);
    },
    /** Every letter still pending from before `before` becomes expired; returns how many. */
    expirePending: (before: number, now: number): Promise<number> => db.run(expire, { before, now }),
    pruneBands: (before: number): Promise<number> => db.run(pruneBands, { before }),
    held: (): Promise<HeldLetter[]> => db.all(held),
    countryCounts: (demandId: number): Promise<LetterCountryCount[]> => db.all(countryCounts, { demandId }),
    demand: (slug: string, lang: Lang): Promise<Demand | undefined> => db.first(demandBySlug, { slug, lang }),
    demandById: (id: number, lang: Lang): Promise<Demand | undefined> => db.first(demandById, { id, lang }),
  };
}
