import type { Insertable } from 'kysely';
import type { DB } from '../db/schema';
import type { Executor } from '../db/store';

/**
 * The seed's writes: each adds its row unless one with the same key is there already, so an
 * organiser's later edits survive every restart. Run once at start: builders, not prepared queries.
 */
export function seedRepository(db: Executor) {
  const { qb } = db;
  return {
    async addCountry(code: string): Promise<void> {
      await db.run(
        qb
          .insertInto('countries')
          .values({ code })
          .onConflict((oc) => oc.doNothing()),
      );
    },
    async markNatoMember(code: string, joined: number): Promise<void> {
      await db.run(qb.updateTable('countries').set({ nato_member: 1, nato_joined: joined }).where('code', '=', code));
    },
    /** Answers the campaign's id, new or not. */
    async addCampaign(row: Insertable<DB['campaigns']>): Promise<number> {
      await db.run(
        qb
          .insertInto('campaigns')
          .values(row)
          .onConflict((oc) => oc.column('slug').doNothing()),
      );
      return (await db.first(qb.selectFrom('campaigns').select('id').where('slug', '=', row.slug)))!.id;
    },
    async addCampaignText(row: Insertable<DB['campaign_texts']>): Promise<void> {
      await db.run(
        qb
          .insertInto('campaign_texts')
          .values(row)
          .onConflict((oc) => oc.doNothing()),
      );
    },
    /** Answers the demand's id, new or not. */
    async addDemand(row: Insertable<DB['demands']>): Promise<number> {
      await db.run(
        qb
          .insertInto('demands')
          .values(row)
          .onConflict((oc) => oc.column('slug').doNothing()),
      );
      return (await db.first(qb.selectFrom('demands').select('id').where('slug', '=', row.slug)))!.id;
    },
    async addDemandText(row: Insertable<DB['demand_texts']>): Promise<void> {
      await db.run(
        qb
          .insertInto('demand_texts')
          .values(row)
          .onConflict((oc) => oc.doNothing()),
      );
    },
    /** Answers the petition's id, new or not (its counters are countersRepository's). */
    async addPetition(row: Insertable<DB['petitions']>): Promise<number> {
      await db.run(
        qb
          .insertInto('petitions')
          .values(row)
          .onConflict((oc) => oc.column('slug').doNothing()),
      );
      return (await db.first(qb.selectFrom('petitions').select('id').where('slug', '=', row.slug)))!.id;
    },
    async addPetitionText(row: Insertable<DB['petition_texts']>): Promise<void> {
      await db.run(
        qb
          .insertInto('petition_texts')
          .values(row)
          .onConflict((oc) => oc.doNothing()),
      );
    },
    async hasDefaultTarget(country: string): Promise<boolean> {
      const row = await db.first(
        qb.selectFrom('targets').select('id').where('country_code', '=', country).where('is_default', '=', 1),
      );
      return row !== undefined;
    },
    /**
     * A country's default delegation renamed from the name the seed gave it before, only while it
     * still has that name (an organiser's own name stays), and its postal address with it, likewise.
     */
    async renameDefaultTarget(
      country: string,
      from: { name: string; postalAddress: string },
      to: { name: string; postalAddress: string },
      now: number,
    ): Promise<void> {
      const where = qb
        .updateTable('targets')
        .where('country_code', '=', country)
        .where('is_default', '=', 1)
        .where('name', '=', from.name);
      await db.run(
        where.set({ name: to.name, updated_at: now }).set((eb) => ({
          postal_address: eb
            .case()
            .when('postal_address', '=', from.postalAddress)
            .then(to.postalAddress)
            .else(eb.ref('postal_address'))
            .end(),
        })),
      );
    },
    async addTarget(row: Insertable<DB['targets']>): Promise<void> {
      await db.run(qb.insertInto('targets').values(row));
    },
  };
}
