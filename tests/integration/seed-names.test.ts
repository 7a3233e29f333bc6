import { postalAddress, seed } from '../../server/campaign/seed';
import { createTestStore, type TestStore } from '../helpers/testStore';

/** The seed's display names for delegations whose name as read reads badly, on either database. */
describe('seeding the delegations', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await createTestStore();
    await seed(t.store);
  });
  afterEach(() => t.close());

  const named = (country: string) =>
    t.store.first(
      t.store.qb
        .selectFrom('targets')
        .select(['name', 'postal_address as postalAddress'])
        .where('country_code', '=', country)
        .where('is_default', '=', 1),
    );
  const setName = (country: string, name: string, address: string) =>
    t.store.run(
      t.store.qb
        .updateTable('targets')
        .set({ name, postal_address: address })
        .where('country_code', '=', country)
        .where('is_default', '=', 1),
    );

  it('names Albania and Croatia neutrally, never "Permanent Representation to NATO" or a lower-case name', async () => {
    expect(await named('AL')).toEqual({
      name: 'Permanent Representation of Albania to NATO',
      postalAddress: postalAddress('Permanent Representation of Albania to NATO'),
    });
    expect((await named('HR'))!.name).toBe('Permanent Representation of Croatia to NATO');
  });

  it('renames a delegation seeded before under its name as read, and keeps an organiser’s own name', async () => {
    // As an earlier seed left them: Albania untouched, Croatia renamed by an organiser (address kept).
    await setName('AL', 'Permanent Representation to NATO', postalAddress('Permanent Representation to NATO'));
    await setName('HR', 'Stalno predstavništvo Republike Hrvatske pri NATO-u', 'Rue X 1, 1000 Brussels');
    await seed(t.store);
    expect(await named('AL')).toEqual({
      name: 'Permanent Representation of Albania to NATO',
      postalAddress: postalAddress('Permanent Representation of Albania to NATO'),
    });
    expect(await named('HR')).toEqual({
      name: 'Stalno predstavništvo Republike Hrvatske pri NATO-u',
      postalAddress: 'Rue X 1, 1000 Brussels',
    });
    // The old name with an address of the organiser's own: the name changes, the address stays.
    await setName('HR', 'hrvatsko stalno predstavništvo pri NATO-u', 'Rue X 1, 1000 Brussels');
    await seed(t.store);
    expect(await named('HR')).toEqual({
      name: 'Permanent Representation of Croatia to NATO',
      postalAddress: 'Rue X 1, 1000 Brussels',
    });
  });
});
