import type { Database } from '../db/database';
import type { Lang } from '../i18n/i18n';
import { allowedTransitions, letterStates, type LetterState } from './letterStates';
import { bandCount, fromBlob } from './similarity';

export type Delivery = 'email' | 'self';

export interface Letter {
  id: number;
  demandId: number;
  targetId: number;
  country: string;
  delivery: Delivery;
  name: string;
  email: string;
  emailCanonical: string;
  town: string | null;
  lang: Lang;
  locale: Lang;
  copyRequested: boolean;
  state: LetterState;
  holdReason: string | null;
  mailsSent: number;
  createdAt: number;
  confirmedAt: number | null;
  sentAt: number | null;
}

export interface NewLetter {
  demandId: number;
  targetId: number;
  country: string;
  delivery: Delivery;
  name: string;
  email: string;
  emailCanonical: string;
  town: string | null;
  ownWords: string;
  body: string;
  lang: Lang;
  locale: Lang;
  copyRequested: boolean;
  fingerprint: Buffer;
  ipHash: string | null;
  day: string;
  now: number;
}

export interface Demand {
  id: number;
  slug: string;
  title: string;
  summary: string;
  petitionSlug: string | null;
}

export interface LetterCountryCount {
  country: string;
  sent: number;
  selfSent: number;
}

export interface HeldLetter {
  id: number;
  demandSlug: string;
  country: string;
  name: string;
  ownWords: string;
  holdReason: string | null;
  createdAt: number;
}

export interface SimilarCandidate {
  id: number;
  emailCanonical: string;
  fingerprint: Buffer;
}

/** States a letter never leaves (sent, self_sent, failed, expired, dropped): retention anonymises letters some time after. */
const finalStates = letterStates.filter((state) => allowedTransitions[state].length === 0);

/** A bound on the near-duplicate check, whatever happens to the bands. */
const maxCandidates = 5000;

const columns = `id, demand_id AS demandId, target_id AS targetId, country_code AS country, delivery, name, email,
  email_canonical AS emailCanonical, town, lang, locale, copy_requested AS copyRequested,
  state, hold_reason AS holdReason, mails_sent AS mailsSent, created_at AS createdAt, confirmed_at AS confirmedAt,
  sent_at AS sentAt`;

type RawLetter = Omit<Letter, 'copyRequested'> & { copyRequested: number };

const toLetter = (r: RawLetter): Letter => ({ ...r, copyRequested: r.copyRequested === 1 });

/** Which timestamp a move into a state records. */
const stampOf: Partial<Record<LetterState, 'confirmed_at' | 'sent_at'>> = {
  ready: 'confirmed_at',
  held: 'confirmed_at',
  sent: 'sent_at',
  self_sent: 'sent_at',
};

// Texts are stored per language; a missing translation falls back to English.
const demandText = `(SELECT t.rowid FROM demand_texts t WHERE t.demand_id = d.id
  ORDER BY t.lang = @lang DESC, t.lang = 'en' DESC LIMIT 1)`;

export type LettersRepository = ReturnType<typeof lettersRepository>;

export function lettersRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO letters (demand_id, target_id, country_code, delivery, name, email, email_canonical, town,
       lang, locale, copy_requested, fingerprint, ip_hash, mails_sent, day, created_at, updated_at)
     VALUES (@demandId, @targetId, @country, @delivery, @name, @email, @emailCanonical, @town,
       @lang, @locale, @copyRequested, @fingerprint, @ipHash, @mailsSent, @day, @now, @now)`,
  );
  const insertText = db.prepare('INSERT INTO letter_texts (letter_id, own_words, body) VALUES (?, ?, ?)');
  // Written again before anyone confirmed it: new words, and a new moment, later than the last even
  // within the same millisecond, so that the links mailed before (signed over it) stop working.
  const rewrite = db.prepare(
    `UPDATE letters SET delivery = @delivery, name = @name, email = @email, town = @town, lang = @lang,
       locale = @locale, copy_requested = @copyRequested, fingerprint = @fingerprint, ip_hash = @ipHash,
       mails_sent = mails_sent + @mailed, created_at = max(@now, created_at + 1), updated_at = @now
     WHERE id = @id AND state = 'pending'`,
  );
  const rewriteText = db.prepare('UPDATE letter_texts SET own_words = ?, body = ? WHERE letter_id = ?');
  const dropBands = db.prepare('DELETE FROM letter_bands WHERE letter_id = ?');
  const textOf = db.prepare('SELECT own_words AS ownWords, body FROM letter_texts WHERE letter_id = ?');
  const insertBand = db.prepare(
    'INSERT OR IGNORE INTO letter_bands (demand_id, band_key, letter_id, created_at) VALUES (?, ?, ?, ?)',
  );
  const byId = db.prepare(`SELECT ${columns} FROM letters WHERE id = ?`);
  const withPrint = db.prepare(`SELECT ${columns}, fingerprint FROM letters WHERE id = ?`);
  const sameDay = db.prepare(
    `SELECT ${columns} FROM letters WHERE demand_id = ? AND target_id = ? AND email_canonical = ? AND day = ?`,
  );
  const bodyOf = db.prepare('SELECT body FROM letter_texts WHERE letter_id = ?').pluck();
  const targetEmailOf = db
    .prepare('SELECT t.email FROM letters l JOIN targets t ON t.id = l.target_id WHERE l.id = ?')
    .pluck();
  const stateOf = db.prepare('SELECT state, demand_id AS demandId, country_code AS country FROM letters WHERE id = ?');
  const countMail = db.prepare('UPDATE letters SET mails_sent = mails_sent + 1 WHERE id = ?');
  const mailsToAddress = db
    .prepare('SELECT coalesce(sum(mails_sent), 0) FROM letters WHERE email_canonical = ? AND day = ?')
    .pluck();
  const touch = db.prepare('UPDATE letters SET updated_at = ? WHERE id = ?');
  const moves = new Map<string, ReturnType<Database['prepare']>>();
  const bump = {
    sent: db.prepare(
      `INSERT INTO letter_country_counts (demand_id, country_code, sent) VALUES (?, ?, 1)
       ON CONFLICT (demand_id, country_code) DO UPDATE SET sent = sent + 1`,
    ),
    self_sent: db.prepare(
      `INSERT INTO letter_country_counts (demand_id, country_code, self_sent) VALUES (?, ?, 1)
       ON CONFLICT (demand_id, country_code) DO UPDATE SET self_sent = self_sent + 1`,
    ),
  };
  // Candidates share at least one band with the letter; the band index finds them without a scan.
  // The limit is written into the SQL: bound as a parameter, it made this query twice as slow.
  // A fingerprint has exactly bandCount band keys: bound one by one, they cost less than a JSON array.
  const keyParams = Array.from({ length: bandCount }, (_, i) => `@k${i}`).join(', ');
  const candidates = db.prepare(
    `SELECT id, email_canonical AS emailCanonical, fingerprint FROM letters
     WHERE id IN (SELECT letter_id FROM letter_bands
                  WHERE demand_id = @demandId AND band_key IN (${keyParams})
                    AND created_at >= @since)
       AND id <> @id
       -- Only letters their writers confirmed: unconfirmed ones from throwaway addresses must not be
       -- able to get real supporters' letters held.
       AND state IN ('ready', 'sent', 'failed', 'held', 'self_sent')
     LIMIT ${maxCandidates}`,
  );
  const expire = db.prepare(
    `UPDATE letters SET state = 'expired', updated_at = @now WHERE state = 'pending' AND created_at < @before`,
  );
  const pruneBands = db.prepare('DELETE FROM letter_bands WHERE created_at < ?');
  const held = db.prepare(
    `SELECT l.id, d.slug AS demandSlug, l.country_code AS country, l.name, t.own_words AS ownWords,
            l.hold_reason AS holdReason, l.created_at AS createdAt
     FROM letters l JOIN demands d ON d.id = l.demand_id JOIN letter_texts t ON t.letter_id = l.id
     WHERE l.state = 'held' ORDER BY l.created_at`,
  );
  const countryCounts = db.prepare(
    `SELECT country_code AS country, sent, self_sent AS selfSent FROM letter_country_counts
     WHERE demand_id = ? AND (sent > 0 OR self_sent > 0) ORDER BY sent + self_sent DESC, country_code`,
  );
  const demandBySlug = db.prepare(
    `SELECT d.id, d.slug, dt.title, dt.summary, p.slug AS petitionSlug
     FROM demands d JOIN demand_texts dt ON dt.rowid = ${demandText}
     LEFT JOIN petitions p ON p.demand_id = d.id
     WHERE d.slug = @slug`,
  );
  const demandById = db.prepare(
    `SELECT d.id, d.slug, dt.title, dt.summary, p.slug AS petitionSlug
     FROM demands d JOIN demand_texts dt ON dt.rowid = ${demandText}
     LEFT JOIN petitions p ON p.demand_id = d.id
     WHERE d.id = @id`,
  );

  function moveStatement(from: LetterState, to: LetterState) {
    const key = `${from}>${to}`;
    let statement = moves.get(key);
    if (!statement) {
      const stamp = stampOf[to];
      statement = db.prepare(
        `UPDATE letters SET state = '${to}', updated_at = @now${stamp ? `, ${stamp} = @now` : ''}
           ${to === 'held' ? ', hold_reason = @reason' : ''}
         WHERE id = @id AND state = '${from}'`,
      );
      moves.set(key, statement);
    }
    return statement;
  }

  const erase = db.prepare(
    `DELETE FROM letters WHERE email_canonical = @canonical OR lower(email) IN (SELECT value FROM json_each(@emails))`,
  );
  const writer = db.prepare('SELECT id, name, email FROM letters WHERE email_canonical = ?');
  // Blanks what identifies the writer and what they wrote; keeps the demand, target, country, state,
  // day and times. The canonical email becomes unique to the row, so the one-a-day index stays valid.
  // A blank email marks a letter already anonymised.
  const anonymise = db.prepare(
    `UPDATE letters SET name = '', email = '', email_canonical = 'anonymised:' || id, town = NULL, ip_hash = NULL,
       fingerprint = x''
     WHERE state IN (${finalStates.map((st) => `'${st}'`).join(', ')}) AND updated_at <= ? AND email <> ''
     RETURNING id`,
  );
  const blankTexts = db.prepare(
    "UPDATE letter_texts SET own_words = '', body = '' WHERE letter_id IN (SELECT value FROM json_each(?))",
  );
  const dropBandsOf = db.prepare('DELETE FROM letter_bands WHERE letter_id IN (SELECT value FROM json_each(?))');

  return {
    /**
     * Deletes every letter a person wrote (their texts and similarity bands go with them); the
     * per-country counters, which name nobody, stay. For an erasure request.
     */
    eraseByEmail(canonical: string, emails: string[]): number {
      return erase.run({ canonical, emails: JSON.stringify(emails) }).changes;
    },
    /** The letters of a canonical address: their ids, and the names and addresses (as typed) they carry. For an erasure request. */
    writerOf(canonical: string): { ids: number[]; names: string[]; emails: string[] } {
      const rows = writer.all(canonical) as Array<{ id: number; name: string; email: string }>;
      return {
        ids: rows.map((r) => r.id),
        names: [...new Set(rows.map((r) => r.name))],
        emails: [...new Set(rows.map((r) => r.email))],
      };
    },
    /**
     * Anonymises every letter that reached a final state (its last change) at or before `cutoff`:
     * name, addresses, town, IP hash, own words, text and similarity data go; the per-country
     * counters never read these rows. Returns their ids. For retention.
     */
    anonymiseFinishedBefore(cutoff: number): number[] {
      return db.transaction(() => {
        const ids = anonymise.pluck().all(cutoff) as number[];
        if (ids.length > 0) {
          blankTexts.run(JSON.stringify(ids));
          dropBandsOf.run(JSON.stringify(ids));
        }
        return ids;
      })();
    },
    /** Inserts the letter and its similarity bands; returns its id. */
    insert(letter: NewLetter, bandKeys: number[], mailsSent: number): number {
      const { ownWords, body, ...row } = letter;
      const id = Number(insert.run({ ...row, copyRequested: row.copyRequested ? 1 : 0, mailsSent }).lastInsertRowid);
      insertText.run(id, ownWords, body);
      for (const key of bandKeys) insertBand.run(letter.demandId, key, id, letter.now);
      return id;
    },
    /**
     * Replaces a letter nobody has confirmed yet with a new version, counting one more mail when one
     * is `mailed`; false if it is no longer pending. The caller keeps the same demand, target,
     * canonical email and day.
     */
    rewrite(id: number, letter: NewLetter, bandKeys: number[], mailed: boolean): boolean {
      const { ownWords, body, ...row } = letter;
      const changes = rewrite.run({ ...row, id, copyRequested: row.copyRequested ? 1 : 0, mailed: mailed ? 1 : 0 });
      if (changes.changes !== 1) return false;
      rewriteText.run(ownWords, body, id);
      dropBands.run(id);
      for (const key of bandKeys) insertBand.run(letter.demandId, key, id, letter.now);
      return true;
    },
    findById(id: number): Letter | undefined {
      const row = byId.get(id) as RawLetter | undefined;
      return row && toLetter(row);
    },
    /** The letter and its fingerprint, in one read (for a confirmation). */
    findWithFingerprint(id: number): { letter: Letter; print: Uint32Array } | undefined {
      const row = withPrint.get(id) as (RawLetter & { fingerprint: Buffer }) | undefined;
      if (!row) return undefined;
      const { fingerprint, ...letter } = row;
      return { letter: toLetter(letter), print: fromBlob(fingerprint) };
    },
    findSameDay(demandId: number, targetId: number, emailCanonical: string, day: string): Letter | undefined {
      const row = sameDay.get(demandId, targetId, emailCanonical, day) as RawLetter | undefined;
      return row && toLetter(row);
    },
    /** The supporter's own words and the letter's full text. */
    textOf(id: number): { ownWords: string; body: string } | undefined {
      return textOf.get(id) as { ownWords: string; body: string } | undefined;
    },
    bodyOf(id: number): string | undefined {
      return bodyOf.get(id) as string | undefined;
    },
    /** The address of the letter's target as it is now (null when it has none). */
    targetEmailOf(id: number): string | null {
      return ((targetEmailOf.get(id) as string | null | undefined) ?? '').trim() || null;
    },
    /** Only what settling a sent letter needs (not its text). */
    stateOf(id: number): Pick<Letter, 'state' | 'demandId' | 'country'> | undefined {
      return stateOf.get(id) as Pick<Letter, 'state' | 'demandId' | 'country'> | undefined;
    },
    /** How many letter mails a canonical address was sent on a day, whatever the demand and target. */
    mailsToAddress(emailCanonical: string, day: string): number {
      return mailsToAddress.get(emailCanonical, day) as number;
    },
    countMailSent(id: number): void {
      countMail.run(id);
    },
    /** An attempt that changes nothing else is still a write (and a commit on disk), as every other is. */
    touch(id: number, now: number): void {
      touch.run(now, id);
    },
    /**
     * Compare-and-set: moves the letter only if it is still in `from`. The caller has checked the move
     * against the transition table; false means someone else moved it first.
     */
    move(id: number, from: LetterState, to: LetterState, now: number, reason: string | null = null): boolean {
      return moveStatement(from, to).run(to === 'held' ? { id, now, reason } : { id, now }).changes === 1;
    },
    countSent(demandId: number, country: string, how: 'sent' | 'self_sent'): void {
      bump[how].run(demandId, country);
    },
    /** Letters of the demand since `since` sharing a band with these keys, at most 5,000. */
    similarCandidates(q: { demandId: number; keys: number[]; since: number; excludeId: number }): SimilarCandidate[] {
      if (q.keys.length !== bandCount) throw new Error(`expected ${bandCount} band keys, got ${q.keys.length}`);
      const params: Record<string, number> = { demandId: q.demandId, since: q.since, id: q.excludeId };
      q.keys.forEach((key, i) => (params[`k${i}`] = key));
      return candidates.all(params) as SimilarCandidate[];
    },
    /** Every letter still pending from before `before` becomes expired; returns how many. */
    expirePending(before: number, now: number): number {
      return expire.run({ before, now }).changes;
    },
    pruneBands(before: number): number {
      return pruneBands.run(before).changes;
    },
    held(): HeldLetter[] {
      return held.all() as HeldLetter[];
    },
    countryCounts(demandId: number): LetterCountryCount[] {
      return countryCounts.all(demandId) as LetterCountryCount[];
    },
    demand(slug: string, lang: Lang): Demand | undefined {
      return demandBySlug.get({ slug, lang }) as Demand | undefined;
    },
    demandById(id: number, lang: Lang): Demand | undefined {
      return demandById.get({ id, lang }) as Demand | undefined;
    },
  };
}
