import { sql } from 'kysely';
import { signToken } from '../../server/security/tokens';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const page = `/petitions/${slug}`;

/** The headers as a client sees them, without the one that changes every second. */
function headersOf(res: { headers: Record<string, unknown> }) {
  const rest = { ...res.headers };
  delete rest.date;
  return rest;
}

/** The count the page's thermometer shows. */
function countOnPage(html: string): number {
  const match = /<progress class="thermometer" max="\d+" value="(\d+)"/.exec(html);
  if (!match) throw new Error('no count on the page');
  return Number(match[1]);
}

describe('public pages answered again from the kept answer (http/replay.ts)', () => {
  let t: TestApp;
  let now: number;
  let reads: jest.SpyInstance;
  let seen = 0;
  /** Whether a request reached the routes since the last call (each routed page view reads its page). */
  const routed = () => {
    const was = seen;
    seen = reads.mock.calls.length;
    return seen > was;
  };

  beforeEach(async () => {
    now = Date.parse('2026-11-30T12:00:00Z');
    t = await createTestApp({ smtp: false, clock: () => now });
    reads = jest.spyOn(t.services.petitions, 'page');
    seen = 0;
  });
  afterEach(() => t.close());

  it('answers a repeated request without routing it again: the same bytes and the same headers', async () => {
    const first = await t.agent().get(page).expect(200);
    expect(routed()).toBe(true);
    const again = await t.agent().get(page).expect(200);
    expect(routed()).toBe(false);
    expect(again.text).toBe(first.text);
    expect(headersOf(again)).toEqual(headersOf(first));
    expect(again.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(again.headers['set-cookie']).toBeUndefined();
  });

  it('answers 304 to a client that holds the bytes, with the page’s validators and no body', async () => {
    const first = await t.agent().get(page).expect(200);
    routed();
    const cached = await t.agent().get(page).set('If-None-Match', first.headers.etag!).expect(304);
    expect(routed()).toBe(false);
    expect(cached.text).toBe('');
    expect(cached.headers.etag).toBe(first.headers.etag);
    expect(cached.headers['cache-control']).toBe(first.headers['cache-control']);
    expect(cached.headers['content-type']).toBeUndefined();
    // Another validator, or a client asking not to be answered from a cache, gets the page.
    await t.agent().get(page).set('If-None-Match', '"something-else"').expect(200);
    await t.agent().get(page).set('If-None-Match', first.headers.etag!).set('Cache-Control', 'no-cache').expect(200);
  });

  it('replays only to the same language inputs: another Accept-Language or lang cookie is routed', async () => {
    await t.agent().get(page).set('Accept-Language', 'en').expect(200);
    routed();
    const fr = await t.agent().get(page).set('Accept-Language', 'fr').expect(200);
    expect(fr.text).toContain('<html lang="fr">');
    expect(routed()).toBe(true);
    const cookie = await t.agent().get(page).set('Cookie', 'lang=fr').expect(200);
    expect(cookie.text).toContain('<html lang="fr">');
    expect(routed()).toBe(true);
    const en = await t.agent().get(page).set('Accept-Language', 'en').expect(200);
    expect(en.text).toContain('<html lang="en">');
    expect(routed()).toBe(false);
  });

  it('never keeps an answer that sets a cookie: a first ?lang= visit is routed every time', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.agent().get(`${page}?lang=fr`).expect(200);
      expect(res.headers['set-cookie']?.[0]).toMatch(/^lang=fr/);
      expect(res.headers['cache-control']).toBe('private, no-cache');
      expect(routed()).toBe(true);
    }
  });

  it('shows a confirmed signature at once: a change of the page data ends the replay', async () => {
    const before = countOnPage((await t.agent().get(page).expect(200)).text);
    const { signatures, petitions, config } = t.services;
    const petition = (await petitions.findPetition(slug, 'en'))!;
    const values = {
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      country: 'GB',
      postcode: '',
      showPublicly: true,
      updates: false,
      source: '',
    };
    await signatures.sign(petition, values, '203.0.113.9', 'en');
    const row = (await t.services.store.first(
      sql<{
        id: number;
        createdAt: number;
      }>`SELECT id, created_at AS "createdAt" FROM signatures WHERE state = 'pending'`,
    ))!;
    const token = signToken(config.secret, 'confirm', Number(row.id), Number(row.createdAt));
    expect((await signatures.confirm(token)).status).toBe('validated');
    expect(countOnPage((await t.agent().get(page).expect(200)).text)).toBe(before + 1);
  });

  it('keeps an answer one second at most, and no answer whose Cache-Control ends before a closing time', async () => {
    await t.agent().get(page).expect(200);
    routed();
    now += 999;
    await t.agent().get(page).expect(200);
    expect(routed()).toBe(false);
    now += 1;
    await t.agent().get(page).expect(200);
    expect(routed()).toBe(true);

    // Closing in 50 s: each answer's max-age counts down to it, so none is replayed.
    await t.services.petitions.setClosesAt(slug, now + 50_000);
    const soon = await t.agent().get(page).expect(200);
    expect(soon.headers['cache-control']).toBe('public, max-age=10, must-revalidate');
    expect(routed()).toBe(true);
    now += 45_000;
    const sooner = await t.agent().get(page).expect(200);
    expect(sooner.headers['cache-control']).toBe('public, max-age=5, must-revalidate');
    expect(routed()).toBe(true);
    await t.agent().get(page).expect(200);
    expect(routed()).toBe(true);
  });

  it('counts a replayed request under its route in the metrics, as the first', async () => {
    await t.agent().get(page).expect(200);
    routed();
    await t.agent().get(page).expect(200);
    await t.agent().get(page).expect(200);
    expect(routed()).toBe(false);
    const metrics = await t.agent().get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/petitions\/:slug",status="2xx"\} 3/,
    );
  });
});
