import { petitionAdminRepository } from '../../server/console/petitions/petitionAdminRepository';
import { signatureAdminRepository } from '../../server/console/signatures/signatureAdminRepository';
import type { Store } from '../../server/db/store';
import { exportRepository, type ExportRow } from '../../server/console/exports/exportRepository';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { at, newPetition, seedConsoleStore, signed } from '../helpers/consoleStore';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';

/**
 * The console's repositories (petition edits, signature search and invalidation, exports) against
 * the database the run points at: the same queries must mean the same on SQLite and on PostgreSQL
 * (`npm run test:pg`). Erasure and retention: consoleErasure.test.ts.
 */
describe(`the console's repositories on ${engine}`, () => {
  let t: TestStore;
  let store: Store;
  let demandId: number;
  let fixedTarget: number;
  let defaultTarget: number;

  beforeAll(async () => {
    t = await createTestStore();
    store = t.store;
    ({ demandId, fixedTarget, defaultTarget } = await seedConsoleStore(store));
  });
  afterAll(async () => t.close());

  it('creates and edits a petition: texts upserted or dropped, only fixed addressees, a demand', async () => {
    const id = await store.transaction((tx) =>
      petitionAdminRepository(tx).create({
        slug: 'edited',
        goal: 50,
        demandSlug: 'demand',
        texts: { en: { title: 'Title', body: 'Body' }, fr: { title: 'Titre', body: 'Corps' } },
        targetIds: [fixedTarget, defaultTarget],
        now: at,
      }),
    );
    expect(id).toEqual(expect.any(Number));
    const repo = petitionAdminRepository(store);
    expect(await repo.slugTaken('edited')).toBe(true);
    expect(await repo.slugTaken('other')).toBe(false);
    expect(await repo.find('edited')).toEqual({
      id,
      slug: 'edited',
      goal: 50,
      state: 'closed',
      closedAt: null,
      closesAt: null,
      demandSlug: 'demand',
      texts: { en: { title: 'Title', body: 'Body' }, fr: { title: 'Titre', body: 'Corps' } },
      targetIds: [fixedTarget],
    });
    expect(await petitionsRepository(store).validatedCount(id)).toBe(0); // its counter row exists

    await store.transaction((tx) =>
      petitionAdminRepository(tx).update(id, {
        goal: 75,
        demandSlug: null,
        texts: { en: { title: 'New title', body: 'New body' } },
        targetIds: [],
      }),
    );
    expect(await repo.find('edited')).toMatchObject({
      goal: 75,
      demandSlug: null,
      texts: { en: { title: 'New title', body: 'New body' } },
      targetIds: [],
    });

    await store.transaction((tx) =>
      petitionAdminRepository(tx).updateDemand(demandId, {
        en: { title: 'Demand (new)', summary: 'S2' },
        fr: { title: 'Revendication', summary: 'R' },
      }),
    );
    expect(await repo.findDemand('demand')).toEqual({
      id: demandId,
      slug: 'demand',
      petitionSlug: null,
      texts: { en: { title: 'Demand (new)', summary: 'S2' }, fr: { title: 'Revendication', summary: 'R' } },
    });
    expect(await repo.demands()).toEqual([expect.objectContaining({ slug: 'demand', petitionSlug: null })]);
  });

  it('searches signatures by address or by part of a name, in any case, and invalidates with the counters', async () => {
    const petitionId = await newPetition(store, 'searched');
    await signed(store, petitionId, {
      name: 'Grace Hopper',
      email: 'Grace@Navy.mil',
      emailCanonical: 'grace@navy.mil',
    });
    await signed(store, petitionId, {
      name: 'Ada Lovelace',
      email: 'ada@navy.mil',
      emailCanonical: 'ada@navy.mil',
      country: 'FR',
      postcode: ' 75001 ',
      ipHash: 'h1',
    });
    await signed(store, petitionId, { name: '100%_real', email: 'p@x.org', emailCanonical: 'p@x.org' }, false);
    const repo = signatureAdminRepository(store);

    expect((await repo.search('GRACE@navy.mil', 10)).map((s) => s.name)).toEqual(['Grace Hopper']);
    expect((await repo.search('hop', 10)).map((s) => s.name)).toEqual(['Grace Hopper']);
    // % and _ are searched for as themselves.
    expect((await repo.search('0%_', 10)).map((s) => s.name)).toEqual(['100%_real']);
    expect(await repo.search('%', 10)).toHaveLength(1);
    expect(await repo.countFound('a')).toBe(3);
    expect(await repo.search('a', 2)).toEqual([
      expect.objectContaining({ name: '100%_real', petitionSlug: 'searched', state: 'pending', validatedAt: null }),
      expect.objectContaining({ name: 'Ada Lovelace', country: 'FR', createdAt: at, validatedAt: at + 1 }),
    ]);

    expect(await repo.countMatching({ petitionId, domain: 'navy.mil' })).toEqual({
      pending: 0,
      validated: 2,
      petitions: 1,
    });
    expect(await repo.countMatching({ domain: 'x.org' })).toEqual({ pending: 1, validated: 0, petitions: 1 });
    expect(await repo.countMatching({ domain: 'nowhere.org' })).toEqual({ pending: 0, validated: 0, petitions: 0 });
    expect(await repo.countMatching({ postcode: '75001', ipHashes: ['h1', 'h2'], from: at, to: at + 1 })).toEqual({
      pending: 0,
      validated: 1,
      petitions: 1,
    });

    const petitions = petitionsRepository(store);
    expect(await petitions.validatedCount(petitionId)).toBe(2);
    const result = await store.transaction((tx) =>
      signatureAdminRepository(tx).invalidate({ postcode: '75001' }, at + 5),
    );
    expect(result).toEqual({ invalidated: 1, petitionIds: [petitionId] });
    expect(await petitions.validatedCount(petitionId)).toBe(1);
    expect(await petitions.countryCounts(petitionId)).toEqual([{ country: 'DE', count: 1 }]);
    // Nothing left to invalidate there: the same criteria change nothing.
    expect(await repo.invalidate({ postcode: '75001' }, at + 6)).toEqual({ invalidated: 0, petitionIds: [] });
  });

  it('exports in pages by id, up to the signatures that existed when it began', async () => {
    const petitionId = await newPetition(store, 'exported');
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        await signed(
          store,
          petitionId,
          {
            name: `Signer ${i}`,
            email: `s${i}@example.org`,
            emailCanonical: `s${i}@example.org`,
            country: i % 2 ? 'FR' : 'DE',
            updatesOptIn: i === 3,
          },
          i !== 6,
        ),
      );
    }
    const repo = exportRepository(store);
    const upTo = await repo.highestId();
    expect(upTo).toBe(ids[6]);
    await signed(store, petitionId, { name: 'Late', email: 'late@example.org', emailCanonical: 'late@example.org' });

    const read = async (filters: Parameters<typeof repo.pages>[0], pageSize: number) => {
      const pages: ExportRow[][] = [];
      for await (const page of repo.pages(filters, { upTo, pageSize })) pages.push(page);
      return pages;
    };
    const validated = await read({ petitionId, state: 'validated', optedIn: false }, 2);
    expect(validated.map((p) => p.length)).toEqual([2, 2, 2]);
    expect(validated.flat().map((r) => r.id)).toEqual(ids.slice(0, 6));
    expect(validated[0]![0]).toEqual({
      id: ids[0],
      petitionId,
      name: 'Signer 0',
      email: 's0@example.org',
      country: 'DE',
      postcode: null,
      state: 'validated',
      createdAt: at,
      validatedAt: at + 1,
      updatesOptIn: 0,
      source: null,
    });
    expect((await read({ petitionId, state: 'all', optedIn: false }, 3)).map((p) => p.length)).toEqual([3, 3, 1]);
    expect((await read({ petitionId, state: 'all', country: 'FR', optedIn: false }, 2)).flat()).toHaveLength(3);
    expect((await read({ petitionId, state: 'validated', optedIn: true }, 2)).flat().map((r) => r.id)).toEqual([
      ids[3],
    ]);
    expect(await read({ petitionId, state: 'all', from: at + 1, optedIn: false }, 2)).toEqual([]);
    expect(await repo.count({ petitionId, state: 'validated', optedIn: false }, upTo)).toBe(6);
    expect(await repo.count({ petitionId, state: 'validated', optedIn: false })).toBe(7); // Late too
  });
});
