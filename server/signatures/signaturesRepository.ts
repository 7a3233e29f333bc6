import type { Database } from '../db/database';

export type SignatureState = 'pending' | 'validated' | 'fraudulent' | 'invalidated';

export interface NewSignature {
  petitionId: number;
  name: string;
  email: string;
  emailCanonical: string;
  country: string;
  postcode: string | null;
  showPublicly: boolean;
  updatesOptIn: boolean;
  consentVersion: string;
  ipHash: string | null;
  locale: string;
  state: 'pending' | 'fraudulent';
  fraudReason: string | null;
  now: number;
}

export interface Signature {
  id: number;
  petitionId: number;
  name: string;
  email: string;
  country: string;
  postcode: string | null;
  showPublicly: 0 | 1;
  updatesOptIn: 0 | 1;
  state: SignatureState;
  locale: string;
  /** Mails sent in the window that began at `mailWindowAt`. */
  mailsSent: number;
  mailWindowAt: number;
  createdAt: number;
}

const columns = `id, petition_id AS petitionId, name, email, country_code AS country, postcode,
  show_publicly AS showPublicly, updates_opt_in AS updatesOptIn, state, locale, mails_sent AS mailsSent,
  mail_window_at AS mailWindowAt, created_at AS createdAt`;

/**
 * One more mail counted: in the current window if it began after @windowFrom, else as the first of a
 * window that begins now. Both CASEs read the row as it was, in SQLite and PostgreSQL alike.
 */
const countOneMail = `mails_sent = CASE WHEN mail_window_at > @windowFrom THEN mails_sent + 1 ELSE 1 END,
  mail_window_at = CASE WHEN mail_window_at > @windowFrom THEN mail_window_at ELSE @now END, attempted_at = @now`;

export type SignaturesRepository = ReturnType<typeof signaturesRepository>;

export function signaturesRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
       updates_opt_in, consent_version, consent_at, ip_hash, locale, state, fraud_reason, mails_sent, mail_window_at,
       attempted_at, created_at)
     VALUES (@petitionId, @name, @email, @emailCanonical, @country, @postcode, @showPublicly, @updatesOptIn,
       @consentVersion, @now, @ipHash, @locale, @state, @fraudReason, @mailsSent, @now, @now, @now)`,
  );
  const active = db.prepare(
    `SELECT ${columns} FROM signatures WHERE petition_id = ? AND email_canonical = ? AND state <> 'fraudulent'`,
  );
  const byId = db.prepare(`SELECT ${columns} FROM signatures WHERE id = ?`);
  const countMail = db.prepare(`UPDATE signatures SET ${countOneMail} WHERE id = @id`);
  const touch = db.prepare('UPDATE signatures SET attempted_at = ? WHERE id = ?');
  const replacePending = db.prepare(
    `UPDATE signatures SET name = @name, email = @email, country_code = @country, postcode = @postcode,
       show_publicly = @showPublicly, updates_opt_in = @updatesOptIn, consent_version = @consentVersion,
       consent_at = @now, ip_hash = @ipHash, locale = @locale, created_at = @now, ${countOneMail}
     WHERE id = @id AND state = 'pending'`,
  );
  const validate = db.prepare(
    `UPDATE signatures SET state = 'validated', validated_at = @now
     WHERE id = @id AND state = 'pending' AND created_at = @createdAt`,
  );
  const bumpCount = db.prepare('UPDATE petition_counts SET validated = validated + 1 WHERE petition_id = ?');
  const bumpCountry = db.prepare(
    `INSERT INTO petition_country_counts (petition_id, country_code, validated) VALUES (?, ?, 1)
     ON CONFLICT (petition_id, country_code) DO UPDATE SET validated = validated + 1`,
  );
  const unsubscribe = db.prepare(
    `UPDATE signatures SET updates_opt_in = 0, unsubscribed_at = @now
     WHERE email_canonical = (SELECT email_canonical FROM signatures WHERE id = @id) AND updates_opt_in = 1`,
  );

  const optedIn = db.prepare(
    `SELECT ${columns} FROM signatures WHERE petition_id = ? AND state = 'validated' AND updates_opt_in = 1`,
  );

  return {
    /** Validated signers of a petition who asked for campaign updates and have not unsubscribed. */
    optedIn(petitionId: number): Signature[] {
      return optedIn.all(petitionId) as Signature[];
    },
    /** Inserts and returns the new id; `mailsSent` is 1 when a confirmation is queued with it. */
    insert(s: NewSignature, mailsSent: number): number {
      return Number(
        insert.run({ ...s, showPublicly: s.showPublicly ? 1 : 0, updatesOptIn: s.updatesOptIn ? 1 : 0, mailsSent })
          .lastInsertRowid,
      );
    },
    /** The signature that holds this canonical email on this petition, if any (fraudulent ones do not). */
    findActive(petitionId: number, emailCanonical: string): Signature | undefined {
      return active.get(petitionId, emailCanonical) as Signature | undefined;
    },
    findById(id: number): Signature | undefined {
      return byId.get(id) as Signature | undefined;
    },
    /** One more mail for the signature, in its current window of the cap or a new one from `now`. */
    countMailSent(id: number, now: number, windowFrom: number): void {
      countMail.run({ id, now, windowFrom });
    },
    /** An attempt that changes nothing else is recorded all the same: every answer writes alike. */
    touch(id: number, now: number): void {
      touch.run(now, id);
    },
    /**
     * A pending signature takes the details of the newest attempt and its time: the links mailed
     * before stop working (a token is bound to the time), so only the newest can be confirmed. Its
     * mail is counted as countMailSent does.
     */
    replacePending(
      id: number,
      s: Omit<NewSignature, 'state' | 'fraudReason' | 'petitionId' | 'emailCanonical'>,
      windowFrom: number,
    ): boolean {
      const row = { ...s, id, windowFrom, showPublicly: s.showPublicly ? 1 : 0, updatesOptIn: s.updatesOptIn ? 1 : 0 };
      return replacePending.run(row).changes === 1;
    },
    /**
     * pending → validated, and the counters with it, in the caller's transaction. False when the
     * signature was not pending (a replayed confirmation changes nothing).
     */
    validate(signature: Signature, now: number): boolean {
      // Only the version the link was mailed for: a newer attempt re-dates the row (replacePending).
      if (validate.run({ id: signature.id, createdAt: signature.createdAt, now }).changes !== 1) return false;
      bumpCount.run(signature.petitionId);
      bumpCountry.run(signature.petitionId, signature.country);
      return true;
    },
    /** Stops campaign updates to this person, on every petition they signed. */
    unsubscribe(id: number, now: number): number {
      return unsubscribe.run({ id, now }).changes;
    },
  };
}
