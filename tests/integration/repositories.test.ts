import { accountsRepository } from '../../server/admin/accountsRepository';
import { sessionsRepository } from '../../server/admin/sessionsRepository';
import { dashboardRepository } from '../../server/console/dashboard/dashboardRepository';
import { createGroupWriter } from '../../server/db/groupWriter';
import { petitionsRepository } from '../../server/petitions/petitionsRepository';
import { signaturesRepository, type NewSignature } from '../../server/signatures/signaturesRepository';
import { aSignature, seedCampaign } from '../helpers/storeSeed';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const at = Date.UTC(2026, 10, 30, 12);

/**
 * The repositories that run on the store, against the database the run points at: the same
 * queries must mean the same on SQLite and on PostgreSQL.
 */
describe(`repositories on ${engine}`, () => {
  let t: TestStore;
  let petitionId: number;
  beforeAll(async () => {
    t = await createTestStore();
    const { store } = t;
    const { campaignId, demandId } = await seedCampaign(store, { countries: ['DE', 'FR', 'IT'], outside: ['CH'] });
    await store.run(
      store.qb.insertInto('campaign_texts').values([
        { campaign_id: campaignId, lang: 'en', title: 'Campaign', intro: 'Intro', source_role: 'Role' },
        { campaign_id: campaignId, lang: 'fr', title: 'Campagne', intro: 'Intro fr', source_role: 'Rôle' },
      ]),
    );
    // English only: French readers fall back to it.
    await store.run(
      store.qb.insertInto('demand_texts').values({ demand_id: demandId, lang: 'en', title: 'Demand', summary: 'S' }),
    );
    const petition = await store.first(
      store.qb
        .insertInto('petitions')
        .values({ demand_id: demandId, slug: 'the-petition', goal: 100, created_at: at })
        .returning('id'),
    );
    petitionId = petition!.id;
    await store.run(
      store.qb.insertInto('petition_texts').values([
        { petition_id: petitionId, lang: 'en', title: 'The petition', body: 'Body' },
        { petition_id: petitionId, lang: 'fr', title: 'La pétition', body: 'Corps' },
      ]),
    );
    await store.run(store.qb.insertInto('petition_counts').values({ petition_id: petitionId }));
  });
  afterAll(async () => t.close());

  const signer = (over: Partial<NewSignature> = {}): NewSignature => aSignature(petitionId, over);

  it('reads texts in the language asked for, falling back to English', async () => {
    const petitions = petitionsRepository(t.store);
    expect((await petitions.findBySlug('the-petition', 'fr'))?.title).toBe('La pétition');
    const fr = await petitions.findById(petitionId, 'fr');
    expect(fr).toMatchObject({ slug: 'the-petition', demandSlug: 'demand', demandTitle: 'Demand', state: 'open' });
    expect((await petitions.campaign('fr'))?.title).toBe('Campagne');
    expect(await petitions.demands('fr')).toEqual([
      expect.objectContaining({ slug: 'demand', title: 'Demand', petitionSlug: 'the-petition', count: 0 }),
    ]);
    expect(await petitions.findBySlug('nothing', 'en')).toBeUndefined();
    expect((await petitions.countries()).find((c) => c.code === 'CH')).toEqual({ code: 'CH', nato: false });
    expect(await petitions.slugsById()).toEqual(new Map([[petitionId, 'the-petition']]));
  });

  it('keeps one signature per canonical email, and validates only the version its link was for', async () => {
    const signatures = signaturesRepository(t.store);
    const id = await signatures.insert(signer(), 1);
    // The driver's own error (from another realm than the test's, so matched by its message).
    await expect(signatures.insert(signer({ name: 'Someone Else' }), 1)).rejects.toHaveProperty(
      'message',
      expect.stringMatching(/unique/i),
    );
    const first = (await signatures.findActive(petitionId, 'ada@example.org'))!;
    expect(first).toMatchObject({ id, name: 'Ada Lovelace', country: 'DE', mailsSent: 1, createdAt: at });

    // A newer attempt re-dates the row: the first version's confirmation changes nothing.
    expect(
      await signatures.replacePending(id, signer({ name: 'Ada King', country: 'FR', now: at + 1000 }), at - 1),
    ).toBe(at + 1000);
    // Within the same millisecond, still a later time: the link just mailed must stop working too.
    expect(
      await signatures.replacePending(id, signer({ name: 'Ada King', country: 'FR', now: at + 1000 }), at - 1, {
        mailed: false,
      }),
    ).toBe(at + 1001);
    expect(
      await signatures.replacePending(id, signer({ name: 'Ada King', country: 'FR', now: at + 1000 }), at - 1),
    ).toBe(at + 1002);
    expect(await signatures.validate(first, at + 2000)).toBe(false);
    const second = (await signatures.findById(id))!;
    expect(second).toMatchObject({ name: 'Ada King', country: 'FR', createdAt: at + 1002, mailsSent: 3 });
    expect(await t.store.transaction((tx) => signaturesRepository(tx).validate(second, at + 3000))).toBe(true);
    expect(await signatures.validate(second, at + 4000)).toBe(false); // a replay changes nothing

    const petitions = petitionsRepository(t.store);
    expect(await petitions.validatedCount(petitionId)).toBe(1);
    expect(await petitions.countryCounts(petitionId)).toEqual([{ country: 'FR', count: 1 }]);
    expect(await petitions.recentPublicSigners(petitionId, 10)).toEqual([
      { firstName: 'Ada', country: 'FR', validatedAt: at + 3000 },
    ]);
  });

  it('counts mail in a window: a mail past the window starts a new one', async () => {
    const signatures = signaturesRepository(t.store);
    const id = await signatures.insert(signer({ email: 'b@example.org', emailCanonical: 'b@example.org' }), 1);
    await signatures.countMailSent(id, at + 10, at - 1); // window began at `at`: still open
    expect((await signatures.findById(id))!).toMatchObject({ mailsSent: 2, mailWindowAt: at });
    await signatures.countMailSent(id, at + 20, at + 5); // window from `at` is over: a new one
    expect((await signatures.findById(id))!).toMatchObject({ mailsSent: 1, mailWindowAt: at + 20 });
  });

  it('adds to a country counter that exists, and unsubscribes a person from every petition', async () => {
    const signatures = signaturesRepository(t.store);
    const ids = await Promise.all(
      ['c1', 'c2'].map((n) =>
        signatures.insert(signer({ email: `${n}@x.org`, emailCanonical: `${n}@x.org`, country: 'IT' }), 1),
      ),
    );
    for (const id of ids) expect(await signatures.validate((await signatures.findById(id))!, at + 5)).toBe(true);
    expect(await petitionsRepository(t.store).countryCounts(petitionId)).toEqual([
      { country: 'IT', count: 2 },
      { country: 'FR', count: 1 },
    ]);

    const optIn = await signatures.insert(
      signer({ email: 'u@x.org', emailCanonical: 'u@x.org', updatesOptIn: true, state: 'pending' }),
      1,
    );
    expect(await signatures.validate((await signatures.findById(optIn))!, at + 6)).toBe(true);
    expect((await signatures.optedIn(petitionId)).map((s) => s.id)).toEqual([optIn]);
    expect(await signatures.unsubscribe(optIn, at + 7)).toBe(1);
    expect(await signatures.optedIn(petitionId)).toEqual([]);
  });

  it('writes a burst through the group writer, one failing write rolled back alone', async () => {
    const writer = createGroupWriter(t.store);
    const write = (n: string) =>
      writer.run((tx) => signaturesRepository(tx).insert(signer({ email: n, emailCanonical: n }), 1));
    const results = await Promise.allSettled([write('g1@x.org'), write('g1@x.org'), write('g2@x.org')]);
    // One of the two writes of the same address fails (which one, on PostgreSQL, is the race's to say).
    expect(
      results
        .slice(0, 2)
        .map((r) => r.status)
        .sort(),
    ).toEqual(['fulfilled', 'rejected']);
    expect(results[2]!.status).toBe('fulfilled');
    expect(await writer.close()).toBe(0);
    await expect(write('g3@x.org')).rejects.toThrow('closing');
    const found = await signaturesRepository(t.store).findActive(petitionId, 'g2@x.org');
    expect(found?.name).toBe('Ada Lovelace');
  });

  it('gives the console its aggregates: petitions in a language, counts by state, by day and by country', async () => {
    const dashboard = dashboardRepository(t.store);
    expect(await dashboard.petitions('fr')).toEqual([
      { id: petitionId, slug: 'the-petition', state: 'open', goal: 100, title: 'La pétition' },
    ]);
    const counts = await dashboard.stateCounts(petitionId);
    expect(counts.validated).toBe(4); // Ada, the two Italians, the one who unsubscribed
    expect(counts.pending).toBeGreaterThan(0);
    expect(counts.fraudulent).toBe(0);
    const day = Math.floor(at / 86_400_000);
    expect(await dashboard.validatedPerDay(petitionId, at - 86_400_000)).toEqual([{ day, count: 4 }]);
    expect(await dashboard.validatedPerDay(petitionId, at + 86_400_000)).toEqual([]);
    expect(await dashboard.countryCounts(petitionId)).toEqual([
      { country: 'IT', count: 2 },
      { country: 'DE', count: 1 },
      { country: 'FR', count: 1 },
    ]);
  });

  it('keeps organisers: one account an address, failed logins that lock, roles and disabling', async () => {
    const accounts = accountsRepository(t.store);
    const id = await accounts.create({ email: 'org@example.org', passwordHash: 'h', role: 'viewer', now: at });
    expect(id).toEqual(expect.any(Number));
    expect(await accounts.create({ email: 'org@example.org', passwordHash: 'h2', role: 'admin', now: at })).toBe(
      undefined,
    );
    expect(await accounts.recordFailure(id!, at, 2, 1000)).toEqual({ failedLogins: 1, lockedUntil: null });
    expect(await accounts.recordFailure(id!, at, 2, 1000)).toEqual({ failedLogins: 2, lockedUntil: at + 1000 });
    await accounts.resetFailures(id!);
    await accounts.setRole(id!, 'organiser');
    await accounts.setDisabled(id!, true);
    await accounts.setPasswordHash(id!, 'h3');
    expect(await accounts.findByEmail('org@example.org')).toEqual({
      id,
      email: 'org@example.org',
      passwordHash: 'h3',
      role: 'organiser',
      failedLogins: 0,
      lockedUntil: null,
      createdAt: at,
      disabled: true,
    });
    expect((await accounts.list()).map((a) => a.email)).toEqual(['org@example.org']);
    expect(await accounts.findById(id! + 1000)).toBeUndefined();
  });

  it('keeps console sessions until they end: upsert, touch, sweep', async () => {
    const sessions = sessionsRepository(t.store);
    await sessions.set('a', '{"n":1}', at + 100);
    await sessions.set('a', '{"n":2}', at + 200); // the same session saved again
    await sessions.set('b', '{}', at + 50);
    expect(await sessions.get('a', at)).toBe('{"n":2}');
    expect(await sessions.get('b', at + 50)).toBeUndefined(); // ended, swept or not
    expect(await sessions.length(at)).toBe(2);
    await sessions.touch('a', at + 300);
    expect(await sessions.get('a', at + 250)).toBe('{"n":2}');
    expect(await sessions.sweep(at + 60)).toBe(1);
    await sessions.destroy('a');
    expect(await sessions.length(at)).toBe(0);
  });
});
