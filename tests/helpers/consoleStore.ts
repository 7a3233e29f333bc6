import type { Store } from '../../server/db/store';
import { signaturesRepository, type NewSignature } from '../../server/signatures/signaturesRepository';
import { aSignature, at, seedCampaign } from './storeSeed';

export { at };
export const day = 24 * 60 * 60 * 1000;

/** Countries, a campaign with a demand, and two addressees: a fixed one and a default delegation. */
export async function seedConsoleStore(
  store: Store,
): Promise<{ demandId: number; fixedTarget: number; defaultTarget: number }> {
  const { demandId } = await seedCampaign(store, { countries: ['DE', 'FR', 'IT'] });
  await store.run(
    store.qb.insertInto('demand_texts').values({ demand_id: demandId, lang: 'en', title: 'Demand', summary: 'S' }),
  );
  const target = async (name: string, isDefault: 0 | 1) =>
    (await store.first(
      store.qb
        .insertInto('targets')
        .values({ country_code: 'FR', name, is_default: isDefault, created_at: at, updated_at: at })
        .returning('id'),
    ))!.id;
  return {
    demandId,
    fixedTarget: await target('Minister', 0),
    defaultTarget: await target('Delegation', 1),
  };
}

/** A petition with its counters, and its texts in English. */
export async function newPetition(store: Store, slug: string): Promise<number> {
  const row = await store.first(
    store.qb.insertInto('petitions').values({ slug, goal: 10, created_at: at }).returning('id'),
  );
  await store.run(store.qb.insertInto('petition_counts').values({ petition_id: row!.id }));
  await store.run(
    store.qb.insertInto('petition_texts').values({ petition_id: row!.id, lang: 'en', title: slug, body: 'Body' }),
  );
  return row!.id;
}

/** A signature, validated (and counted) unless it is to stay pending; answers its id. */
export async function signed(
  store: Store,
  petitionId: number,
  over: Partial<NewSignature>,
  validated = true,
): Promise<number> {
  const signatures = signaturesRepository(store);
  const id = await signatures.insert(aSignature(petitionId, over), 1);
  if (validated && !(await signatures.validate((await signatures.findById(id))!, at + 1))) {
    throw new Error(`signature ${id} was not validated`);
  }
  return id;
}
