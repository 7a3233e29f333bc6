import { aSignature } from '../helpers/storeSeed';
import { auditRepository } from '../../server/admin/auditRepository';
import { seed } from '../../server/campaign/seed';
import { countersRepository } from '../../server/petitions/countersRepository';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { signaturesRepository, type NewSignature } from '../../server/signatures/signaturesRepository';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const at = Date.UTC(2026, 10, 30, 12);

/** Repositories that several features write through (the counters), on the database the run points at. */
describe(`shared repositories on ${engine}`, () => {
  let t: TestStore;
  let petitionId: number;
  beforeAll(async () => {
    t = await createTestStore();
    await seed(t.store, undefined, at);
    petitionId = (await t.store.first(t.store.qb.selectFrom('petitions').select('id').orderBy('id')))!.id;
  });
  afterAll(async () => t.close());

  const signer = (n: number, country: string): NewSignature =>
    aSignature(petitionId, {
      name: `Signer ${n}`,
      email: `s${n}@example.org`,
      emailCanonical: `s${n}@example.org`,
      country,
    });

  describe('seedRepository (through the seed)', () => {
    it("seeds once: a second run adds no row and keeps an organiser's edit", async () => {
      const count = async (table: 'targets' | 'petitions' | 'demand_texts' | 'countries') =>
        Number((await t.store.first(t.store.qb.selectFrom(table).select((eb) => eb.fn.countAll().as('n'))))!.n);
      const before = await Promise.all(
        ['targets', 'petitions', 'demand_texts', 'countries'].map((n) => count(n as 'targets')),
      );
      expect(before.every((n) => n > 0)).toBe(true);
      await t.store.run(
        t.store.qb.updateTable('targets').set({ email: 'edited@example.org' }).where('country_code', '=', 'DE'),
      );
      await seed(t.store, undefined, at + 1);
      expect(
        await Promise.all(['targets', 'petitions', 'demand_texts', 'countries'].map((n) => count(n as 'targets'))),
      ).toEqual(before);
      const de = await t.store.first(t.store.qb.selectFrom('targets').select('email').where('country_code', '=', 'DE'));
      expect(de?.email).toBe('edited@example.org');
    });
  });

  describe('countersRepository', () => {
    it('counts validations, withdrawals and recounts, in all and by country', async () => {
      const petitions = petitionsRepository(t.store);
      // The seed made every petition's total; made again, it keeps its value.
      expect(await petitions.validatedCount(petitionId)).toBe(0);
      await t.store.transaction(async (tx) => {
        const signatures = signaturesRepository(tx);
        for (const [n, country] of [
          [1, 'DE'],
          [2, 'DE'],
          [3, 'FR'],
        ] as const) {
          const id = await signatures.insert(signer(n, country), 1);
          expect(await signatures.validate((await signatures.findById(id))!, at + 1)).toBe(true);
        }
      });
      await countersRepository(t.store).created(petitionId);
      expect(await petitions.validatedCount(petitionId)).toBe(3);
      expect(await petitions.countryCounts(petitionId)).toEqual([
        { country: 'DE', count: 2 },
        { country: 'FR', count: 1 },
      ]);

      await t.store.transaction((tx) => countersRepository(tx).withdrawn(petitionId, 'DE'));
      expect(await petitions.validatedCount(petitionId)).toBe(2);
      expect(await petitions.countryCounts(petitionId)).toEqual(
        expect.arrayContaining([
          { country: 'DE', count: 1 },
          { country: 'FR', count: 1 },
        ]),
      );

      // Counted again from the rows: the three validated signatures, whatever the counters said.
      await t.store.transaction((tx) => countersRepository(tx).recount(petitionId));
      expect(await petitions.validatedCount(petitionId)).toBe(3);
      expect(await petitions.countryCounts(petitionId)).toEqual([
        { country: 'DE', count: 2 },
        { country: 'FR', count: 1 },
      ]);
    });

    it('starts a new petition at zero, and a rolled-back validation counts nothing', async () => {
      const { id } = (await t.store.first(
        t.store.qb.insertInto('petitions').values({ slug: 'new-one', goal: 10, created_at: at }).returning('id'),
      ))!;
      await countersRepository(t.store).created(id);
      expect(await petitionsRepository(t.store).validatedCount(id)).toBe(0);
      await expect(
        t.store.transaction(async (tx) => {
          await countersRepository(tx).validated(id, 'IT');
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await petitionsRepository(t.store).validatedCount(id)).toBe(0);
      expect(await petitionsRepository(t.store).countryCounts(id)).toEqual([]);
    });
  });

  describe('auditRepository', () => {
    it('pages newest first with who acted, passes in id order, and rewrites an entry', async () => {
      const audit = auditRepository(t.store);
      const { id: organiserId } = (await t.store.first(
        t.store.qb
          .insertInto('organisers')
          .values({ email: 'ana@example.org', password_hash: 'x', role: 'admin', created_at: at })
          .returning('id'),
      ))!;
      await t.store.transaction(async (tx) => {
        await auditRepository(tx).insert({ at, organiserId, action: 'a.one', subject: 's1', details: '{}' });
        await auditRepository(tx).insert({
          at: at + 1,
          organiserId: null,
          action: 'a.two',
          subject: null,
          details: '{"k":1}',
        });
      });
      const newest = await audit.page(Number.MAX_SAFE_INTEGER, 10);
      expect(newest.map((r) => [r.action, r.organiserEmail, r.at])).toEqual([
        ['a.two', null, at + 1],
        ['a.one', 'ana@example.org', at],
      ]);
      expect(await audit.page(newest[0]!.id, 10)).toHaveLength(1);
      const first = await audit.after(0, 1);
      expect(first).toEqual([{ id: newest[1]!.id, action: 'a.one', subject: 's1', details: '{}' }]);
      await audit.rewrite(first[0]!.id, null, '{"erased":true}');
      expect(await audit.after(0, 10)).toEqual([
        expect.objectContaining({ action: 'a.one', subject: null, details: '{"erased":true}' }),
        expect.objectContaining({ action: 'a.two', details: '{"k":1}' }),
      ]);
    });
  });
});
