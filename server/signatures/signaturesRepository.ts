import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import { countersRepository } from '../petitions/countersRepository';

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
  /** Where the signer came from (server/sources/sourceCode.ts), or null. */
  source?: string | null;
  state: 'pending' | 'fraudulent';
  fraudReason: string | null;
  now: number;
}

export interface PetitionClosing {
  state: 'open' | 'closed';
  closesAt: number | null;
  closedAt: number | null;
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

const columns = sql`id, petition_id AS "petitionId", name, email, country_code AS country, postcode,
  show_publicly AS "showPublicly", updates_opt_in AS "updatesOptIn", state, locale, mails_sent AS "mailsSent",
  mail_window_at AS "mailWindowAt", created_at AS "createdAt"`;

/**
 * One more mail counted: in the current window if it began after `windowFrom`, else as the first of a
 * window that begins now. Both CASEs read the row as it was, in SQLite and PostgreSQL alike.
 */
const countOneMail = (now: number, windowFrom: number) =>
  sql`mails_sent = CASE WHEN mail_window_at > ${windowFrom} THEN mails_sent + 1 ELSE 1 END,
    mail_window_at = CASE WHEN mail_window_at > ${windowFrom} THEN mail_window_at ELSE ${now} END,
    attempted_at = ${now}`;

type Row = Omit<NewSignature, 'showPublicly' | 'updatesOptIn'> & { showPublicly: number; updatesOptIn: number };
const insert = prepared(
  (_qb, p: Params<Row & { mailsSent: number }>) =>
    sql<{ id: number }>`INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode,
       show_publicly, updates_opt_in, consent_version, consent_at, ip_hash, locale, state, fraud_reason, mails_sent,
       mail_window_at, attempted_at, created_at, source)
     VALUES (${p.petitionId}, ${p.name}, ${p.email}, ${p.emailCanonical}, ${p.country}, ${p.postcode}, ${p.showPublicly},
       ${p.updatesOptIn}, ${p.consentVersion}, ${p.now}, ${p.ipHash}, ${p.locale}, ${p.state}, ${p.fraudReason},
       ${p.mailsSent}, ${p.now}, ${p.now}, ${p.now}, ${p.source})
     RETURNING id`,
);
const active = prepared(
  (_qb, p: Params<{ petitionId: number; emailCanonical: string }>) =>
    sql<Signature>`SELECT ${columns} FROM signatures
     WHERE petition_id = ${p.petitionId} AND email_canonical = ${p.emailCanonical} AND state <> 'fraudulent'`,
);
const petitionClosing = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<PetitionClosing>`SELECT state, closes_at AS "closesAt", closed_at AS "closedAt" FROM petitions WHERE id = ${p.petitionId}`,
);
const byId = prepared(
  (_qb, p: Params<{ id: number }>) => sql<Signature>`SELECT ${columns} FROM signatures WHERE id = ${p.id}`,
);
const countMail = prepared(
  (_qb, p: Params<{ id: number; now: number; windowFrom: number }>) =>
    sql`UPDATE signatures SET ${countOneMail(p.now, p.windowFrom)} WHERE id = ${p.id}`,
);
const touch = prepared((qb, p: Params<{ id: number; now: number }>) =>
  qb.updateTable('signatures').set({ attempted_at: p.now }).where('id', '=', p.id),
);
type Replacement = Params<
  Omit<Row, 'petitionId' | 'emailCanonical' | 'state' | 'fraudReason'> & { id: number; windowFrom: number }
>;
const replaced = (p: Replacement) =>
  sql`name = ${p.name}, email = ${p.email}, country_code = ${p.country}, postcode = ${p.postcode},
    show_publicly = ${p.showPublicly}, updates_opt_in = ${p.updatesOptIn}, consent_version = ${p.consentVersion},
    consent_at = ${p.now}, ip_hash = ${p.ipHash}, locale = ${p.locale}, source = ${p.source},
    created_at = CASE WHEN created_at < ${p.now} THEN ${p.now} ELSE created_at + 1 END`;
const replacePending = prepared(
  (_qb, p: Replacement) =>
    sql<{ createdAt: number }>`UPDATE signatures SET ${replaced(p)}, ${countOneMail(p.now, p.windowFrom)}
     WHERE id = ${p.id} AND state = 'pending' RETURNING created_at AS "createdAt"`,
);
// Over the cap: replaced all the same, with no mail to count.
const replacePendingUnmailed = prepared(
  (_qb, p: Replacement) =>
    sql<{ createdAt: number }>`UPDATE signatures SET ${replaced(p)}, attempted_at = ${p.now}
     WHERE id = ${p.id} AND state = 'pending' RETURNING created_at AS "createdAt"`,
);
const validate = prepared((qb, p: Params<{ id: number; createdAt: number; now: number }>) =>
  qb
    .updateTable('signatures')
    .set({ state: 'validated', validated_at: p.now })
    .where('id', '=', p.id)
    .where('state', '=', 'pending')
    .where('created_at', '=', p.createdAt),
);
const unsubscribe = prepared(
  (_qb, p: Params<{ id: number; now: number }>) =>
    sql`UPDATE signatures SET updates_opt_in = 0, unsubscribed_at = ${p.now}
     WHERE email_canonical = (SELECT email_canonical FROM signatures WHERE id = ${p.id}) AND updates_opt_in = 1`,
);
const optedIn = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql<Signature>`SELECT ${columns} FROM signatures
     WHERE petition_id = ${p.petitionId} AND state = 'validated' AND updates_opt_in = 1`,
);

const flags = (s: { showPublicly: boolean; updatesOptIn: boolean }) => ({
  showPublicly: s.showPublicly ? 1 : 0,
  updatesOptIn: s.updatesOptIn ? 1 : 0,
});

export type SignaturesRepository = ReturnType<typeof signaturesRepository>;

/** Signatures on the store: on the database, or inside a caller's transaction. */
export function signaturesRepository(db: Executor) {
  const counters = countersRepository(db);
  return {
    /** Validated signers of a petition who asked for campaign updates and have not unsubscribed. */
    optedIn: (petitionId: number): Promise<Signature[]> => db.all(optedIn, { petitionId }),
    /** Inserts and returns the new id; `mailsSent` is 1 when a confirmation is queued with it. */
    async insert(s: NewSignature, mailsSent: number): Promise<number> {
      return (await db.first(insert, { ...s, ...flags(s), source: s.source ?? null, mailsSent }))!.id;
    },
    /** The signature that holds this canonical email on this petition, if any (fraudulent ones do not). */
    findActive: (petitionId: number, emailCanonical: string): Promise<Signature | undefined> =>
      db.first(active, { petitionId, emailCanonical }),
    findById: (id: number): Promise<Signature | undefined> => db.first(byId, { id }),
    /** The petition's state and closing times, as stored (see closingDate.asOf for how readers see it). */
    petitionClosing: (petitionId: number): Promise<PetitionClosing | undefined> =>
      db.first(petitionClosing, { petitionId }),
    /** One more mail for the signature, in its current window of the cap or a new one from `now`. */
    async countMailSent(id: number, now: number, windowFrom: number): Promise<void> {
      await db.run(countMail, { id, now, windowFrom });
    },
    /** An attempt that changes nothing else is recorded all the same: every answer writes alike. */
    async touch(id: number, now: number): Promise<void> {
      await db.run(touch, { id, now });
    },
    /**
     * A pending signature takes the details of the newest attempt and its time (later than the one
     * it had, even within the same millisecond): the links mailed before stop working (a token is
     * bound to the time), so only the newest can be confirmed. Its mail is counted as countMailSent
     * does, unless it is not mailed. Answers the new time, or undefined when it was not pending.
     */
    async replacePending(
      id: number,
      s: Omit<NewSignature, 'state' | 'fraudReason' | 'petitionId' | 'emailCanonical'>,
      windowFrom: number,
      options: { mailed: boolean } = { mailed: true },
    ): Promise<number | undefined> {
      const query = options.mailed ? replacePending : replacePendingUnmailed;
      return (await db.first(query, { ...s, ...flags(s), source: s.source ?? null, id, windowFrom }))?.createdAt;
    },
    /**
     * pending → validated, and the counters with it, in the caller's transaction. False when the
     * signature was not pending (a replayed confirmation changes nothing).
     */
    async validate(signature: Signature, now: number): Promise<boolean> {
      // Only the version the link was mailed for: a newer attempt re-dates the row (replacePending).
      if ((await db.run(validate, { id: signature.id, createdAt: signature.createdAt, now })) !== 1) return false;
      await counters.validated(signature.petitionId, signature.country);
      return true;
    },
    /** Stops campaign updates to this person, on every petition they signed. */
    unsubscribe: (id: number, now: number): Promise<number> => db.run(unsubscribe, { id, now }),
  };
}
