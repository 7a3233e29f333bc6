import { createTargetsService } from '../../server/console/targets/targetsService';
import { createGroupWriter } from '../../server/db/groupWriter';
import { lettersPrivacyRepository } from '../../server/letters/lettersPrivacyRepository';
import { lettersRepository, type NewLetter } from '../../server/letters/lettersRepository';
import { bands, fingerprint, toBlob } from '../../server/letters/similarity';
import { targetsRepository } from '../../server/targets/targetsRepository';
import { seedCampaign } from '../helpers/storeSeed';
import { createTestStore, postgresUrl, type TestStore } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const at = Date.UTC(2026, 10, 30, 12);
const today = new Date(at).toISOString().slice(0, 10);

/**
 * Letters and targets on the store, against the database the run points at: upserts, RETURNING,
 * sums, CASE updates, band lists and BYTEA fingerprints must mean the same on SQLite and PostgreSQL.
 */
describe(`letters and targets on ${engine}`, () => {
  let t: TestStore;
  let demandId: number;
  let italy: number;
  let france: number;
  beforeAll(async () => {
    t = await createTestStore();
    const { store } = t;
    ({ demandId } = await seedCampaign(store, {
      countries: ['DE', 'FR', 'IT'],
      outside: ['CH'],
      demandSlug: 'fair-tax',
    }));
    // English only: French readers fall back to it.
    await store.run(
      store.qb.insertInto('demand_texts').values({ demand_id: demandId, lang: 'en', title: 'Fair tax', summary: 'S' }),
    );
    await store.run(
      store.qb
        .insertInto('petitions')
        .values({ demand_id: demandId, slug: 'fair-tax-petition', goal: 10, created_at: at }),
    );
    const delegation = (country: string, email: string | null, languages: string) =>
      store.first(
        store.qb
          .insertInto('targets')
          .values({
            country_code: country,
            name: `Delegation of ${country}`,
            name_is_placeholder: 1,
            languages,
            email,
            is_default: 1,
            created_at: at,
            updated_at: at,
          })
          .returning('id'),
      );
    italy = (await delegation('IT', ' nato.it@example.org ', 'it'))!.id;
    france = (await delegation('FR', null, 'fr'))!.id;
    await delegation('DE', '', 'de');
  });
  afterAll(async () => t.close());

  const words = (n: number) => `my own words about the budget and the hospital number ${n} in our town`;
  const letter = (over: Partial<NewLetter> = {}): NewLetter => ({
    demandId,
    targetId: italy,
    country: 'IT',
    delivery: 'email',
    name: 'Ada Lovelace',
    email: 'Ada@Example.org',
    emailCanonical: 'ada@example.org',
    town: 'Bologna',
    ownWords: words(1),
    body: `Dear delegation, ${words(1)}`,
    lang: 'en',
    locale: 'en',
    copyRequested: false,
    askReply: true,
    fingerprint: toBlob(fingerprint(words(1))),
    ipHash: null,
    day: today,
    now: at,
    ...over,
  });

  describe('targets', () => {
    it('lists them, defaults first, and finds the countries whose delegation has no address', async () => {
      const targets = targetsRepository(t.store);
      expect((await targets.defaults()).map((x) => x.country)).toEqual(['DE', 'FR', 'IT']);
      const it = (await targets.forCountry('IT'))[0]!;
      expect(it).toMatchObject({ id: italy, isDefault: true, namePlaceholder: true, languages: ['it'] });
      expect(await targets.countryCodes()).toEqual(new Set(['CH', 'DE', 'FR', 'IT']));
      // A blank address is no address; CH is not a member.
      expect(await targets.countriesWithoutAddress()).toEqual(['DE', 'FR']);
      expect(await targets.findById(italy + 1000)).toBeUndefined();
    });

    it('creates (its id returned), updates (a new name is no placeholder), and sets an address', async () => {
      const targets = targetsRepository(t.store);
      const fields = {
        kind: 'parliamentary_assembly' as const,
        country: 'IT',
        name: 'PA delegation',
        languages: ['it', 'en'],
        email: 'pa.it@example.org',
        website: null,
      };
      const id = await targets.create(fields, at);
      expect(id).toEqual(expect.any(Number));
      expect((await targets.forCountry('IT')).map((x) => x.id)).toEqual([italy, id]);
      // The same name keeps the placeholder flag; another name clears it.
      const current = (await targets.findById(italy))!;
      const same = { ...fields, kind: current.kind, name: current.name, email: current.email };
      expect(await targets.update(italy, same, at + 1)).toBe(true);
      expect((await targets.findById(italy))!.namePlaceholder).toBe(true);
      expect(await targets.update(italy, { ...same, name: 'Rappresentanza' }, at + 2)).toBe(true);
      expect((await targets.findById(italy))!).toMatchObject({ name: 'Rappresentanza', namePlaceholder: false });
      expect(await targets.setEmail(france, 'nato.fr@example.org', at + 3)).toBe(true);
      expect(await targets.setEmail(id + 1000, 'x@example.org', at + 3)).toBe(false);
      expect(await targets.countriesWithoutAddress()).toEqual(['DE']);
      expect(await targets.setEmail(france, null, at + 4)).toBe(true);
    });

    it('imports a CSV whole, and nothing of it when a row is wrong', async () => {
      const service = createTargetsService(t.store, () => at + 10);
      const before = await service.exportCsv();
      const bad = await service.importCsv(
        'country,kind,name,languages,email,website\nDE,minister,Minister,de,,\nXX,minister,Nobody,de,,\n',
      );
      expect(bad).toMatchObject({ ok: false, errors: [expect.objectContaining({ line: 3 })] });
      expect(await service.exportCsv()).toBe(before);
      const good = await service.importCsv(
        'id,country,kind,name,languages,email,website\n' +
          `${france},FR,nato_delegation,Délégation,fr,nato.fr@example.org,\n` +
          ',DE,minister,Minister,de,,\n',
      );
      expect(good).toEqual({ ok: true, created: 1, updated: 1 });
      expect((await service.find(france))!.email).toBe('nato.fr@example.org');
      expect((await targetsRepository(t.store).forCountry('DE')).map((x) => x.name)).toEqual([
        'Delegation of DE',
        'Minister',
      ]);
    });
  });

  describe('letters', () => {
    it('writes a letter with its text and bands, one a day per address, target and demand', async () => {
      const letters = lettersRepository(t.store);
      const print = fingerprint(words(1));
      const id = await letters.insert(letter(), bands(print), 1);
      expect(id).toEqual(expect.any(Number));
      await expect(letters.insert(letter({ name: 'Someone Else' }), bands(print), 1)).rejects.toHaveProperty(
        'message',
        expect.stringMatching(/unique/i),
      );
      expect(await letters.findSameDay(demandId, italy, 'ada@example.org', today)).toMatchObject({
        id,
        state: 'pending',
        copyRequested: false,
        mailsSent: 1,
        createdAt: at,
        confirmedAt: null,
      });
      const found = (await letters.findWithFingerprint(id))!;
      expect([...found.print]).toEqual([...print]);
      expect(await letters.textOf(id)).toEqual({ ownWords: words(1), body: `Dear delegation, ${words(1)}` });
      expect(await letters.bodyOf(id + 1000)).toBeUndefined();
      // The target's address as it is now, trimmed; none, null.
      expect(await letters.targetEmailOf(id)).toBe('nato.it@example.org');
      expect(await letters.mailsToAddress('ada@example.org', today)).toBe(1);
      expect(await letters.mailsToAddress('nobody@example.org', today)).toBe(0);
    });

    it('rewrites a pending letter with a later time, counting its mail only when mailed', async () => {
      const letters = lettersRepository(t.store);
      const { id } = (await letters.findSameDay(demandId, italy, 'ada@example.org', today))!;
      const again = letter({ name: 'Ada King', ownWords: words(2), body: words(2), copyRequested: true, now: at });
      expect(await letters.rewrite(id, again, bands(fingerprint(words(2))), true)).toBe(true);
      expect(await letters.rewrite(id, again, bands(fingerprint(words(2))), false)).toBe(true);
      expect(await letters.findById(id)).toMatchObject({
        name: 'Ada King',
        copyRequested: true,
        mailsSent: 2,
        createdAt: at + 2, // later each time, even within the same millisecond
      });
      expect((await letters.textOf(id))!.ownWords).toBe(words(2));
      await letters.countMailSent(id);
      await letters.touch(id, at + 5);
      expect(await letters.mailsToAddress('ada@example.org', today)).toBe(3);
    });

    it('moves a letter compare-and-set, stamping its times, and counts it sent per country', async () => {
      const letters = lettersRepository(t.store);
      const { id } = (await letters.findSameDay(demandId, italy, 'ada@example.org', today))!;
      expect(await letters.move(id, 'ready', 'sent', at + 10)).toBe(false); // not ready yet
      expect(await letters.move(id, 'pending', 'ready', at + 10)).toBe(true);
      expect(await letters.rewrite(id, letter(), [], true)).toBe(false); // no longer pending
      expect(await letters.stateOf(id)).toEqual({ state: 'ready', demandId, country: 'IT' });
      expect(await letters.move(id, 'ready', 'sent', at + 20)).toBe(true);
      expect(await letters.findById(id)).toMatchObject({ state: 'sent', confirmedAt: at + 10, sentAt: at + 20 });
      await t.store.transaction(async (tx) => {
        await lettersRepository(tx).countSent(demandId, 'IT', 'sent');
        await lettersRepository(tx).countSent(demandId, 'IT', 'sent');
        await lettersRepository(tx).countSent(demandId, 'FR', 'self_sent');
      });
      expect(await letters.countryCounts(demandId)).toEqual([
        { country: 'IT', sent: 2, posted: 0, selfSent: 0 },
        { country: 'FR', sent: 0, posted: 0, selfSent: 1 },
      ]);
      expect(await letters.demand('fair-tax', 'fr')).toEqual({
        id: demandId,
        slug: 'fair-tax',
        title: 'Fair tax',
        summary: 'S',
        petitionSlug: 'fair-tax-petition',
      });
      expect((await letters.demandById(demandId, 'en'))!.slug).toBe('fair-tax');
      expect(await letters.demand('nothing', 'en')).toBeUndefined();
    });

    it('finds near-duplicates among confirmed letters sharing a band, and lists the held ones', async () => {
      const writer = createGroupWriter(t.store);
      // Words of nobody else's in this file: only these letters share its bands.
      const same = 'stop the cuts now and tax the richest fairly so that every school stays open';
      const print = fingerprint(same);
      const write = (n: number, state: 'held' | 'pending') =>
        writer.run(async (tx) => {
          const letters = lettersRepository(tx);
          const email = `w${n}@example.org`;
          const id = await letters.insert(
            letter({ email, emailCanonical: email, ownWords: same, fingerprint: toBlob(print), now: at + n }),
            bands(print),
            1,
          );
          if (state === 'held') await letters.move(id, 'pending', 'held', at + n, 'similar');
          return id;
        });
      const [held1, held2, pending] = await Promise.all([write(1, 'held'), write(2, 'held'), write(3, 'pending')]);
      expect(await writer.close()).toBe(0);
      const letters = lettersRepository(t.store);
      const query = { demandId, keys: bands(print), since: at, excludeId: held1! };
      expect((await letters.similarCandidates(query)).map((c) => c.id)).toEqual([held2]);
      const [candidate] = await letters.similarCandidates(query);
      expect(candidate!.emailCanonical).toBe('w2@example.org');
      expect([...new Uint32Array(new Uint8Array(candidate!.fingerprint).buffer)]).toEqual([...print]);
      expect(await letters.similarCandidates({ ...query, since: at + 3 })).toEqual([]);
      expect((await letters.held()).map((l) => [l.id, l.holdReason, l.demandSlug])).toEqual([
        [held1, 'similar', 'fair-tax'],
        [held2, 'similar', 'fair-tax'],
      ]);
      expect(pending).toEqual(expect.any(Number));
    });

    it('expires what was left pending and forgets old bands (the sweep)', async () => {
      const letters = lettersRepository(t.store);
      const stale = await letters.insert(
        letter({ email: 'old@example.org', emailCanonical: 'old@example.org', targetId: france, country: 'FR' }),
        [],
        0,
      );
      const expired = await t.store.transaction(async (tx) => {
        const repo = lettersRepository(tx);
        expect(await repo.pruneBands(at + 2)).toBeGreaterThan(0);
        return repo.expirePending(at + 4, at + 100);
      });
      expect(expired).toBe(2); // the stale one and the pending near-duplicate (at + 3)
      expect(await letters.findById(stale)).toMatchObject({ state: 'expired' });
      expect(await letters.pruneBands(at + 2)).toBe(0);
    });

    it('erases a writer by address and anonymises finished letters (erasure and retention)', async () => {
      const letters = lettersRepository(t.store);
      const mine = await letters.insert(
        letter({
          email: 'Grace@Example.org',
          emailCanonical: 'grace@example.org',
          name: 'Grace Hopper',
          targetId: france,
          country: 'FR',
        }),
        bands(fingerprint(words(7))),
        1,
      );
      const privacy = lettersPrivacyRepository(t.store);
      expect(await privacy.writerOf('grace@example.org')).toEqual({
        ids: [mine],
        names: ['Grace Hopper'],
        emails: ['Grace@Example.org'],
      });
      // The sent letter of the earlier tests is final: anonymised once old enough, and only once.
      const sent = (await letters.findSameDay(demandId, italy, 'ada@example.org', today))!.id;
      const anonymised = await t.store.transaction((tx) =>
        lettersPrivacyRepository(tx).anonymiseFinishedBefore(at + 1000),
      );
      expect(anonymised).toContain(sent);
      expect(anonymised).not.toContain(mine); // pending: not final
      expect(await letters.findById(sent)).toMatchObject({ name: '', email: '', state: 'sent' });
      expect(await letters.textOf(sent)).toEqual({ ownWords: '', body: '' });
      expect(await lettersPrivacyRepository(t.store).anonymiseFinishedBefore(at + 1000)).toEqual([]);
      // An erasure finds the letter by its canonical address or by an address as typed.
      expect(
        await t.store.transaction((tx) =>
          lettersPrivacyRepository(tx).eraseByEmail('nobody@example.org', ['GRACE@example.org']),
        ),
      ).toBe(1);
      expect(await letters.findById(mine)).toBeUndefined();
      expect(await letters.textOf(mine)).toBeUndefined();
    });
  });
});
