import type { Database } from '../db/database';
import { allowedTransitions, letterStates } from './letterStates';

/** States a letter never leaves (sent, self_sent, failed, expired, dropped): retention anonymises letters some time after. */
const finalStates = letterStates.filter((state) => allowedTransitions[state].length === 0);

export type LettersSyncShims = ReturnType<typeof lettersSyncShims>;

/**
 * What the console's erasure and retention steps read and write about letters, synchronously on the
 * SQLite connection, inside the console's own transaction. A shim until those steps move to the
 * store (then these become methods of lettersRepository, without `Now`).
 */
export function lettersSyncShims(db: Database) {
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
    eraseByEmailNow(canonical: string, emails: string[]): number {
      return erase.run({ canonical, emails: JSON.stringify(emails) }).changes;
    },
    /** The letters of a canonical address: their ids, and the names and addresses (as typed) they carry. For an erasure request. */
    writerOfNow(canonical: string): { ids: number[]; names: string[]; emails: string[] } {
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
    anonymiseFinishedBeforeNow(cutoff: number): number[] {
      return db.transaction(() => {
        const ids = anonymise.pluck().all(cutoff) as number[];
        if (ids.length > 0) {
          blankTexts.run(JSON.stringify(ids));
          dropBandsOf.run(JSON.stringify(ids));
        }
        return ids;
      })();
    },
  };
}
