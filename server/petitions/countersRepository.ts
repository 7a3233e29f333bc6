import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

/*
 * The only writer of petition_counts and petition_country_counts: the totals the public pages read
 * instead of counting signatures. Every change is made on the transaction that changes the
 * signatures it counts, so a page never reads a count the rows disagree with.
 */

const created = prepared((qb, p: Params<{ petitionId: number }>) =>
  qb
    .insertInto('petition_counts')
    .values({ petition_id: p.petitionId })
    .onConflict((oc) => oc.doNothing()),
);
const addOne = prepared((qb, p: Params<{ petitionId: number }>) =>
  qb
    .updateTable('petition_counts')
    .set((eb) => ({ validated: eb('validated', '+', 1) }))
    .where('petition_id', '=', p.petitionId),
);
const addOneInCountry = prepared((qb, p: Params<{ petitionId: number; country: string }>) =>
  qb
    .insertInto('petition_country_counts')
    .values({ petition_id: p.petitionId, country_code: p.country, validated: 1 })
    .onConflict((oc) =>
      oc
        .columns(['petition_id', 'country_code'])
        .doUpdateSet((eb) => ({ validated: eb('petition_country_counts.validated', '+', 1) })),
    ),
);
const removeOne = prepared((qb, p: Params<{ petitionId: number }>) =>
  qb
    .updateTable('petition_counts')
    .set((eb) => ({ validated: eb('validated', '-', 1) }))
    .where('petition_id', '=', p.petitionId),
);
const removeOneInCountry = prepared((qb, p: Params<{ petitionId: number; country: string }>) =>
  qb
    .updateTable('petition_country_counts')
    .set((eb) => ({ validated: eb('validated', '-', 1) }))
    .where('petition_id', '=', p.petitionId)
    .where('country_code', '=', p.country),
);
const recountTotal = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql`INSERT INTO petition_counts (petition_id, validated)
     VALUES (${p.petitionId}, (SELECT count(*) FROM signatures WHERE petition_id = ${p.petitionId} AND state = 'validated'))
     ON CONFLICT (petition_id) DO UPDATE SET validated = excluded.validated`,
);
const clearCountries = prepared((qb, p: Params<{ petitionId: number }>) =>
  qb.deleteFrom('petition_country_counts').where('petition_id', '=', p.petitionId),
);
const recountCountries = prepared(
  (_qb, p: Params<{ petitionId: number }>) =>
    sql`INSERT INTO petition_country_counts (petition_id, country_code, validated)
     SELECT petition_id, country_code, count(*) FROM signatures WHERE petition_id = ${p.petitionId} AND state = 'validated'
     GROUP BY petition_id, country_code`,
);

export type CountersRepository = ReturnType<typeof countersRepository>;

/** A petition's validated signatures, in all and by country. Call on the caller's transaction. */
export function countersRepository(db: Executor) {
  return {
    /** A new petition's total starts at zero (kept when it has one already). */
    async created(petitionId: number): Promise<void> {
      await db.run(created, { petitionId });
    },
    /** A signature became validated: one more, in all and in its country. */
    async validated(petitionId: number, country: string): Promise<void> {
      await db.run(addOne, { petitionId });
      await db.run(addOneInCountry, { petitionId, country });
    },
    /** A validated signature is gone (erased): one fewer, in all and in its country. */
    async withdrawn(petitionId: number, country: string): Promise<void> {
      await db.run(removeOne, { petitionId });
      await db.run(removeOneInCountry, { petitionId, country });
    },
    /** Both counters counted again from the rows, after a change to many signatures at once. */
    async recount(petitionId: number): Promise<void> {
      await db.run(recountTotal, { petitionId });
      await db.run(clearCountries, { petitionId });
      await db.run(recountCountries, { petitionId });
    },
  };
}
