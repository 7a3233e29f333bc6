import { sql } from 'kysely';
import { insertBatch } from '../helpers/batches';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const demandSlug = 'progressive-taxation';
const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';
const poland = 'Permanent Delegation of the Republic of Poland to NATO';
const handedIn = Date.UTC(2026, 10, 30); // the day a pack was handed in, as recorded
const emailed = Date.UTC(2026, 9, 1, 10, 30); // when a digest reached the relay

/** The rows of the Deliveries table on a page, as text per cell. */
function deliveryRows(html: string): string[][] {
  const table = /<table class="deliveries-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]!
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

describe('the public delivery record', () => {
  let t: TestApp;
  let now: number;
  let names: string[];
  let pack: { id: number; sha: string };
  let digest: { id: number; sha: string };
  let due: { id: number; sha: string };

  beforeEach(async () => {
    now = Date.UTC(2026, 11, 1, 12);
    t = await createTestApp({ smtp: false, clock: () => now });
    names = ['Dörte Müller', 'Jan Kowalski', 'Anna Nowak', 'Klaus Becker'];
    const [de1, pl1, pl2, de2] = await addValidatedSignaturesTo(
      t.services.store,
      slug,
      names.map((name, i) => ({ name, country: i === 0 || i === 3 ? 'DE' : 'PL' })),
      Date.UTC(2026, 8, 1),
    );
    pack = (await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'DE',
      channel: 'post',
      signatureIds: [de1!],
      letterCount: 2,
      createdAt: Date.UTC(2026, 10, 20),
      sentAt: Date.UTC(2026, 10, 30, 15),
      handedInAt: handedIn,
    })) as { id: number; sha: string };
    digest = (await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'PL',
      channel: 'email',
      signatureIds: [pl1!, pl2!],
      createdAt: emailed - 60_000,
      sentAt: emailed,
    })) as { id: number; sha: string };
    // Planned but not handed in yet; and a digest that failed: neither is a delivery.
    due = (await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'DE',
      channel: 'post',
      state: 'queued',
      signatureIds: [de2!],
      createdAt: Date.UTC(2026, 10, 29),
      sentAt: null,
    })) as { id: number; sha: string };
    await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'IT',
      channel: 'email',
      state: 'failed',
      signatureIds: [],
      sentAt: null,
    });
  });
  afterEach(() => t.close());

  describe('GET /petitions/:slug and /demands/:slug', () => {
    it('list each delivery: delegation, British date, channel, counts and the SHA-256', async () => {
      const page = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(page.text).toContain('<h2 id="deliveries-heading">Deliveries</h2>');
      expect(deliveryRows(page.text)).toEqual([
        [
          `${germany} (Germany)`,
          '30 November 2026',
          'By post or hand-in',
          '1',
          '2',
          `${pack.sha} Verify ${pack.sha.slice(0, 12)}`,
        ],
        [
          `${poland} (Poland)`,
          '1 October 2026',
          'By email',
          '2',
          '0',
          `${digest.sha} Verify ${digest.sha.slice(0, 12)}`,
        ],
      ]);
      // Shortened on screen, whole in the title and the text (to copy); the link is the short address.
      expect(page.text).toContain(`<code class="sha" title="${pack.sha}">${pack.sha}</code>`);
      expect(page.text).toContain(`href="/verify/${pack.sha.slice(0, 12)}"`);
      expect(page.text).not.toContain(due.sha);
      for (const name of names) expect(page.text).not.toContain(name);

      const demand = await t.agent().get(`/demands/${demandSlug}`).expect(200);
      expect(deliveryRows(demand.text)).toEqual(deliveryRows(page.text));
    });

    it('writes the dates in French on the French page', async () => {
      const page = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      const rows = deliveryRows(page.text);
      expect(rows.map((r) => [r[1], r[2]])).toEqual([
        ['30 novembre 2026', 'Par courrier ou remise en main propre'],
        ['1er octobre 2026', 'Par e-mail'], // the first of a month is an ordinal in French,
      ]);
      expect(page.text).toContain('(Allemagne)');
    });

    it('says so when nothing has been delivered yet', async () => {
      const page = await t.agent().get('/petitions/protect-civil-society').expect(200);
      expect(page.text).toContain('Nothing has been delivered to the delegations yet');
      expect(deliveryRows(page.text)).toEqual([]);
    });

    it('shows a new delivery once the kept page is older than the refresh interval', async () => {
      const interval = t.services.publicMaxAgeSeconds * 1000;
      const before = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(deliveryRows(before.text)).toHaveLength(2);
      await t.services.store.run(
        sql`UPDATE batches SET state = 'sent', sent_at = ${now}, handed_in_at = ${now} WHERE id = ${due.id}`,
      );
      now += interval / 2;
      expect(deliveryRows((await t.agent().get(`/petitions/${slug}`).expect(200)).text)).toHaveLength(2);
      now += interval / 2 + 1000;
      const after = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(deliveryRows(after.text)).toHaveLength(3);
      expect(deliveryRows(after.text)[0]![1]).toBe('1 December 2026');
    });
  });

  describe('GET /petitions/:slug/deliveries.json', () => {
    it('gives the same record, cacheable for the refresh interval, without personal data', async () => {
      // 60 s on one process; COUNT_REFRESH_SECONDS (10 s by default) when processes share a database.
      expect(t.services.publicMaxAgeSeconds).toBe(t.services.config.countRefreshSeconds);
      const res = await t.agent().get(`/petitions/${slug}/deliveries.json`).expect(200);
      expect(res.headers['cache-control']).toBe(
        `public, max-age=${t.services.publicMaxAgeSeconds}, stale-while-revalidate=${2 * t.services.publicMaxAgeSeconds}, stale-if-error=${5 * t.services.publicMaxAgeSeconds}`,
      );
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toEqual({
        slug,
        deliveries: [
          {
            batch: pack.id,
            delegation: germany,
            country: 'DE',
            date: '2026-11-30',
            channel: 'post',
            signatures: 1,
            letters: 2,
            sha256: pack.sha,
            verifyUrl: `http://localhost:3000/verify/${pack.sha.slice(0, 12)}`,
          },
          {
            batch: digest.id,
            delegation: poland,
            country: 'PL',
            date: '2026-10-01',
            channel: 'email',
            signatures: 2,
            letters: 0,
            sha256: digest.sha,
            verifyUrl: `http://localhost:3000/verify/${digest.sha.slice(0, 12)}`,
          },
        ],
      });
      for (const name of names) expect(res.text).not.toContain(name);
      expect(res.text).not.toContain('@example.org');
      await t.agent().get('/petitions/no-such-petition/deliveries.json').expect(404);
    });

    it('is kept for COUNT_REFRESH_SECONDS when several processes share the database', async () => {
      const shared = await createTestApp({ smtp: false, env: { WEB_CONCURRENCY: '2', COUNT_REFRESH_SECONDS: '15' } });
      try {
        const res = await shared.agent().get(`/petitions/${slug}/deliveries.json`).expect(200);
        expect(res.headers['cache-control']).toBe('public, max-age=15, stale-while-revalidate=30, stale-if-error=75');
      } finally {
        await shared.close();
      }
    });
  });

  describe('GET /verify', () => {
    it('shows an empty form, with no cookie', async () => {
      const res = await t.agent().get('/verify').expect(200);
      expect(res.text).toContain('<form method="get" action="/verify"');
      expect(res.text).toContain('<label for="field-sha">SHA-256 of the CSV file</label>');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('finds a pack by its full SHA-256, typed in capitals with spaces', async () => {
      // One of its signatures is invalidated after the hand-in: the page says how many.
      await t.services.store.run(
        sql`UPDATE signatures SET state = 'invalidated', invalidated_at = ${Date.UTC(2026, 11, 1)}
            WHERE name = 'Dörte Müller'`,
      );
      const typed = pack.sha.toUpperCase().replace(/(.{8})/g, '$1 ');
      const res = await t.agent().get('/verify').query({ sha: typed }).expect(200);
      expect(res.headers['cache-control']).toBe(
        `public, max-age=${t.services.publicMaxAgeSeconds}, stale-while-revalidate=${2 * t.services.publicMaxAgeSeconds}, stale-if-error=${5 * t.services.publicMaxAgeSeconds}`,
      );
      expect(res.headers['set-cookie']).toBeUndefined();
      const text = res.text.replace(/\s+/g, ' ');
      expect(text).toContain(`Hand-in pack ${pack.id}`);
      expect(text).toContain('Handed in or posted on 30 November 2026');
      expect(text).toContain('NATO governments: fund defence fairly, not through austerity');
      expect(text).toContain(`${germany} (Germany)`);
      expect(text).toContain('<dt>Signatures</dt> <dd>1</dd>');
      expect(text).toContain('<dt>Letters</dt> <dd>2</dd>');
      expect(text).toContain(
        'Every signature was confirmed by its signer, through a link sent to their email address.',
      );
      expect(text).toContain('1 of these signatures was later invalidated by the organisers.');
      expect(text).toContain(`<code class="sha-full">${pack.sha}</code>`);
      for (const name of names) expect(res.text).not.toContain(name);
    });

    it('finds a digest by a prefix of 12 characters, and its short address', async () => {
      const short = digest.sha.slice(0, 12);
      const byPrefix = await t.agent().get('/verify').query({ sha: short }).expect(200);
      const text = byPrefix.text.replace(/\s+/g, ' ');
      expect(text).toContain(`Email digest ${digest.id}`);
      expect(text).toContain('Delivered by email on 1 October 2026.');
      expect(text).toContain('None of these signatures has been invalidated since.');
      const byAddress = await t.agent().get(`/verify/${short}`).expect(200);
      // In the reader's language: a shared cache must keep one copy per language.
      expect(byAddress.headers.vary).toBe('Accept-Language, Cookie');
      expect(byAddress.text).toContain(`Email digest ${digest.id}`);
      expect(byAddress.text).toContain(`value="${short}"`);
      const french = await t.agent().get(`/verify/${short}?lang=fr`).expect(200);
      expect(french.text).toContain('Remis par e-mail le 1er octobre 2026.');
    });

    it('says when a pack is still due', async () => {
      const res = await t
        .agent()
        .get(`/verify/${due.sha.slice(0, 12)}`)
        .expect(200);
      expect(res.text).toContain('Not delivered yet: this batch is still due to be sent or handed in.');
      expect(res.text).toContain('Prepared on');
    });

    it('answers an unknown SHA-256 or short address with a clear message and 404', async () => {
      const unknown = 'f'.repeat(64);
      const res = await t.agent().get('/verify').query({ sha: unknown }).expect(404);
      expect(res.text).toContain('No delivery found');
      expect(res.text).toContain(`begins with ${unknown}`);
      const short = await t.agent().get('/verify/0123456789ab').expect(404);
      expect(short.text).toContain('No delivery found');
      expect(short.text).toContain('<form method="get" action="/verify"');
    });

    it('re-renders the form with a message beside the field when the input is no SHA-256', async () => {
      for (const input of ['abc', 'z'.repeat(64), '<script>alert(1)</script>', 'a'.repeat(65)]) {
        const res = await t.agent().get('/verify').query({ sha: input }).expect(400);
        expect(res.text).toContain('Enter the SHA-256 as letters a to f and digits, at least 12 of them');
        expect(res.text).toContain('aria-invalid="true"');
        expect(res.text).not.toContain('<script>alert');
      }
      const odd = await t.agent().get('/verify/not-a-hash%3Cb%3E').expect(404);
      expect(odd.text).toContain('No delivery found');
      expect(odd.text).not.toContain('<b>');
    });
  });
});
