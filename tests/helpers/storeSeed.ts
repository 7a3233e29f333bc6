import type { Store } from '../../server/db/store';
import type { NewSignature } from '../../server/signatures/signaturesRepository';

/** The time the store tests write at. */
export const at = Date.UTC(2026, 10, 30, 12);

/**
 * What every repository test on the store starts from: countries (NATO members unless listed in
 * `outside`), and a campaign with one demand.
 */
export async function seedCampaign(
  store: Store,
  options: { countries: string[]; outside?: string[]; demandSlug?: string },
): Promise<{ campaignId: number; demandId: number }> {
  await store.run(
    store.qb
      .insertInto('countries')
      .values([
        ...options.countries.map((code) => ({ code, nato_member: 1 as const })),
        ...(options.outside ?? []).map((code) => ({ code, nato_member: 0 as const })),
      ]),
  );
  const campaign = await store.first(
    store.qb
      .insertInto('campaigns')
      .values({ slug: 'c', source_author: 'A', source_title: 'T', source_publication: 'P', source_year: 2025 })
      .returning('id'),
  );
  const demand = await store.first(
    store.qb
      .insertInto('demands')
      .values({ campaign_id: campaign!.id, slug: options.demandSlug ?? 'demand', position: 1 })
      .returning('id'),
  );
  return { campaignId: Number(campaign!.id), demandId: Number(demand!.id) };
}

/** A signature as the signing path writes it: Ada's, pending, unless `over` says otherwise. */
export function aSignature(petitionId: number, over: Partial<NewSignature> = {}): NewSignature {
  return {
    petitionId,
    name: 'Ada Lovelace',
    email: 'Ada@Example.org',
    emailCanonical: 'ada@example.org',
    country: 'DE',
    postcode: null,
    showPublicly: true,
    updatesOptIn: false,
    consentVersion: 'v1',
    ipHash: null,
    locale: 'en',
    state: 'pending',
    fraudReason: null,
    now: at,
    ...over,
  };
}
