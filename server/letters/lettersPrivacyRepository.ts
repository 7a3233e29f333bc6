import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import { finalStates } from './letterStates';

/** States a letter never leaves (sent, self_sent, failed, expired, dropped): retention anonymises letters some time after. */

const writer = prepared((qb, p: Params<{ canonical: string }>) =>
  qb.selectFrom('letters').select(['id', 'name', 'email']).where('email_canonical', '=', p.canonical),
);
// Blanks what identifies the writer and what they wrote; keeps the demand, target, country, state,
// day and times. The canonical email becomes unique to the row, so the one-a-day index stays valid.
// A blank email marks a letter already anonymised.
const anonymise = prepared(
  (_qb, p: Params<{ cutoff: number; empty: Buffer }>) =>
    sql<{ id: number }>`UPDATE letters SET name = '', email = '', email_canonical = 'anonymised:' || id, town = NULL,
       ip_hash = NULL, fingerprint = ${p.empty}
     WHERE state IN (${sql.join(finalStates)}) AND updated_at <= ${p.cutoff} AND email <> ''
     RETURNING id`,
);

const chunks = <T>(items: readonly T[], size = 500): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * What the console's erasure and retention do to letters, in their transaction (`tx`): SQL for both
 * databases, lists passed as lists.
 */
export type LettersPrivacyRepository = ReturnType<typeof lettersPrivacyRepository>;

export function lettersPrivacyRepository(tx: Executor) {
  return {
    /** The letters of a canonical address: their ids, and the names and addresses (as typed) they carry. */
    async writerOf(canonical: string): Promise<{ ids: number[]; names: string[]; emails: string[] }> {
      const rows = await tx.all(writer, { canonical });
      return {
        ids: rows.map((r) => r.id),
        names: [...new Set(rows.map((r) => r.name))],
        emails: [...new Set(rows.map((r) => r.email))],
      };
    },
    /**
     * Deletes every letter a person wrote (their texts and similarity bands go with them, by the
     * foreign keys); the per-country counters, which name nobody, stay. For an erasure request.
     */
    async eraseByEmail(canonical: string, emails: string[]): Promise<number> {
      const lowered = [...new Set(emails.map((e) => e.toLowerCase()))];
      let deleted = await tx.run(tx.qb.deleteFrom('letters').where('email_canonical', '=', canonical));
      for (const part of chunks(lowered)) {
        deleted += await tx.run(tx.qb.deleteFrom('letters').where(sql`lower(email)`, 'in', part));
      }
      return deleted;
    },
    /**
     * Anonymises every letter that reached a final state (its last change) at or before `cutoff`:
     * name, addresses, town, IP hash, own words, text and similarity data go; the per-country
     * counters never read these rows. Returns their ids. For retention.
     */
    async anonymiseFinishedBefore(cutoff: number): Promise<number[]> {
      const ids = (await tx.all(anonymise, { cutoff, empty: Buffer.alloc(0) })).map((r) => r.id);
      for (const part of chunks(ids)) {
        await tx.run(tx.qb.updateTable('letter_texts').set({ own_words: '', body: '' }).where('letter_id', 'in', part));
        await tx.run(tx.qb.deleteFrom('letter_bands').where('letter_id', 'in', part));
      }
      return ids;
    },
  };
}
