import { sql } from 'kysely';
import { crashRandom } from '../helpers/crashSeed';
import { addPetitionTargetTo, addValidatedSignaturesTo, setTargetEmailIn } from '../helpers/factories';
import { addPostLetterTo, setTargetPostIn } from '../helpers/packs';
import { createTestApp, type TestApp } from '../helpers/testApp';

const petitions = ['fund-defence-fairly', 'protect-civil-society'];
const demands = ['progressive-taxation', 'civic-freedoms'];
const countries = ['IT', 'DE', 'FR', 'PL'];
const hour = 3600_000;

// Random sequences of signing, writing, address changes and planning, replayable with CRASH_SEED.
const random = crashRandom('packs property');

describe(`digests and packs planned side by side (CRASH_SEED=${random.seed})`, () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('never puts a signature in two batches for one target, and in the end puts each in exactly one', async () => {
    let now = Date.UTC(2026, 11, 1);
    t = await createTestApp({
      smtp: false,
      env: { DIGEST_SIZE: '3', DIGEST_HOURS: '6', DIGEST_MAX: '4' },
      clock: () => now,
    });
    const { store } = t.services;
    await addPetitionTargetTo(store, petitions[0]!, { name: 'Everyone', email: 'everyone@example.org' });
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random.next() * list.length)]!;
    let n = 0;
    for (let step = 0; step < 60; step++) {
      const r = random.next();
      if (r < 0.4) {
        const k = 1 + Math.floor(random.next() * 4);
        const people = Array.from({ length: k }, () => ({ name: `Signer ${n++}`, country: pick(countries) }));
        await addValidatedSignaturesTo(store, pick(petitions), people, now);
      } else if (r < 0.5) {
        await addPostLetterTo(store, {
          demand: pick(demands),
          country: pick(['DE', 'PL']),
          name: `Writer ${n}`,
          email: `w${n++}@example.org`,
          confirmedAt: now,
        });
      } else if (r < 0.6) {
        // A delegation gains or loses its email…
        const c = pick(['DE', 'FR', 'PL']);
        await setTargetEmailIn(store, c, random.next() < 0.5 ? `${c.toLowerCase()}@nato.example` : null);
      } else if (r < 0.7) {
        // …asks for paper or stops asking.
        await setTargetPostIn(store, pick(countries), { forcePost: random.next() < 0.5 });
      } else if (r < 0.75) {
        await setTargetPostIn(store, pick(['FR', 'PL']), {
          address: random.next() < 0.5 ? null : 'NATO HQ, 1110 Brussels',
        });
      } else {
        await t.services.delivery.plan(random.next() < 0.3);
      }
      now += Math.floor(random.next() * 3 * hour);
      // The key: one batch per target × signature, whatever the channel.
      const twice = await store.all(
        sql<{
          n: number;
        }>`SELECT count(*) AS n FROM batch_signatures GROUP BY target_id, signature_id HAVING count(*) > 1`,
      );
      expect(twice).toEqual([]);
    }
    // Everyone reachable again, everything waiting planned.
    for (const c of countries) await setTargetPostIn(store, c, { address: `${c}, NATO HQ, 1110 Brussels` });
    await t.services.delivery.plan(true);

    // Each signature in exactly one batch for each target it is addressed to (its delegation, and
    // Everyone for the first petition), that batch of its petition and that target.
    const rows = await store.all(
      sql<{ signature: number; target: number; batches: number; right: number }>`SELECT s.id AS signature,
         t.id AS target, count(b.batch_id) AS batches,
         coalesce(sum(CASE WHEN x.petition_id = s.petition_id AND x.target_id = t.id THEN 1 ELSE 0 END), 0) AS "right"
       FROM signatures s
       JOIN targets t ON (t.country_code = s.country_code AND t.is_default = 1)
         OR t.id IN (SELECT target_id FROM petition_targets pt WHERE pt.petition_id = s.petition_id)
       LEFT JOIN batch_signatures b ON b.signature_id = s.id AND b.target_id = t.id
       LEFT JOIN batches x ON x.id = b.batch_id
       GROUP BY s.id, t.id`,
    );
    expect(rows.length).toBeGreaterThan(n / 4);
    expect(rows.filter((r) => Number(r.batches) !== 1 || Number(r.right) !== 1)).toEqual([]);
    // A batch's count is what it holds, and every post letter is in one pack.
    const counts = await store.all(
      sql<{ id: number; said: number; held: number }>`SELECT b.id, b.signature_count AS said,
         (SELECT count(*) FROM batch_signatures m WHERE m.batch_id = b.id) AS held FROM batches b`,
    );
    expect(counts.filter((c) => Number(c.said) !== Number(c.held))).toEqual([]);
    const letters = await store.all(
      sql<{ n: number }>`SELECT count(*) AS n FROM letters l
       WHERE NOT EXISTS (SELECT 1 FROM batch_letters bl JOIN batches b ON b.id = bl.batch_id
                         WHERE bl.letter_id = l.id AND b.channel = 'post')`,
    );
    expect(Number(letters[0]!.n)).toBe(0);
  });
});
