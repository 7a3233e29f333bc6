import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';
import { transition } from './letterStates';

/** A letter as a pack move reports it: enough to count it and to tell its writer. */
export interface PackLetter {
  id: number;
  demandId: number;
  country: string;
}

const packLetters = sql`SELECT letter_id FROM batch_letters WHERE batch_id = `;

// Compare-and-set on the letters' state: a letter already moved (a pack recorded twice, say) is not
// moved or counted again, and only what this statement moved is reported.
const handIn = prepared(
  (_qb, p: Params<{ batchId: number; now: number; handedInAt: number }>) =>
    sql<PackLetter>`UPDATE letters SET state = 'sent', sent_at = ${p.handedInAt}, updated_at = ${p.now}
     WHERE id IN (${packLetters}${p.batchId}) AND delivery = 'post' AND state = 'ready'
     RETURNING id, demand_id AS "demandId", country_code AS country`,
);
const undoHandIn = prepared(
  (_qb, p: Params<{ batchId: number; now: number }>) =>
    sql<PackLetter>`UPDATE letters SET state = 'ready', sent_at = NULL, updated_at = ${p.now}
     WHERE id IN (${packLetters}${p.batchId}) AND delivery = 'post' AND state = 'sent'
     RETURNING id, demand_id AS "demandId", country_code AS country`,
);
// `n` more (or fewer) letters delivered with a pack: both `sent` (all the platform delivered) and
// `posted` (the part handed in with a pack). The sums are made from `excluded`, not from a parameter:
// PostgreSQL wants to know a parameter's type before it adds it to anything.
const addPosted = prepared((qb, p: Params<{ demandId: number; country: string; n: number }>) =>
  qb
    .insertInto('letter_country_counts')
    .values({ demand_id: p.demandId, country_code: p.country, sent: p.n, posted: p.n })
    .onConflict((oc) =>
      oc.columns(['demand_id', 'country_code']).doUpdateSet((eb) => ({
        sent: eb('letter_country_counts.sent', '+', eb.ref('excluded.sent')),
        posted: eb('letter_country_counts.posted', '+', eb.ref('excluded.posted')),
      })),
    ),
);
const removePosted = prepared(
  (_qb, p: Params<{ demandId: number; country: string; n: number }>) =>
    sql`UPDATE letter_country_counts
     SET sent = sent - CAST(${p.n} AS INTEGER), posted = posted - CAST(${p.n} AS INTEGER)
     WHERE demand_id = ${p.demandId} AND country_code = ${p.country}`,
);
// A ready email letter whose target lost its address, or asked for paper, joins the next pack instead.
const toPost = prepared(
  (_qb, p: Params<{ id: number; now: number }>) =>
    sql`UPDATE letters SET delivery = 'post', updated_at = ${p.now}
     WHERE id = ${p.id} AND delivery = 'email' AND state = 'ready'`,
);

/** How many letters of each demand and country moved, for the counters. */
function tally(letters: PackLetter[]): Array<{ demandId: number; country: string; n: number }> {
  const groups = new Map<string, { demandId: number; country: string; n: number }>();
  for (const { demandId, country } of letters) {
    const key = `${demandId}:${country}`;
    const group = groups.get(key) ?? { demandId, country, n: 0 };
    group.n++;
    groups.set(key, group);
  }
  return [...groups.values()];
}

export type LetterPacksRepository = ReturnType<typeof letterPacksRepository>;

/**
 * Letters that travel in hand-in packs (delivery 'post'), as the pack recorder moves them: call it on
 * the recorder's transaction, so that the pack, its letters and the public counts never disagree.
 */
export function letterPacksRepository(db: Executor) {
  return {
    /**
     * The pack `batchId` was recorded as handed in (at `now`; on `handedInAt`, the day it happened):
     * its letters still waiting (ready) become sent, and each counts once as delivered with a pack
     * (`sent` and `posted`) for its demand and country. Answers the letters it moved; a second call
     * moves and counts nothing. The letters service's `lettersHandedIn` also mails their writers.
     */
    async markHandedIn(batchId: number, now: number, handedInAt = now): Promise<PackLetter[]> {
      transition('ready', 'sent', 'post');
      const moved = await db.all(handIn, { batchId, now, handedInAt });
      for (const group of tally(moved)) await db.run(addPosted, group);
      return moved;
    },

    /**
     * The hand-in of pack `batchId` was undone (within 24 hours): its sent letters wait again (ready)
     * for the next pack, and are counted out. Answers the letters it moved.
     */
    async undoHandedIn(batchId: number, now: number): Promise<PackLetter[]> {
      transition('sent', 'ready', 'post');
      const moved = await db.all(undoHandIn, { batchId, now });
      for (const group of tally(moved)) await db.run(removePosted, group);
      return moved;
    },

    /** A ready email letter joins its target's next pack instead (false if it is not one). */
    async toPost(id: number, now: number): Promise<boolean> {
      return (await db.run(toPost, { id, now })) === 1;
    },
  };
}
