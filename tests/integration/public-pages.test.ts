import request from 'supertest';
import { createAccount, login } from '../helpers/admin';
import { aLetter, letterDemand } from '../helpers/letters';
import { aSigner, baseUrl, confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';
const publicCache = 'public, max-age=10, stale-while-revalidate=20, stale-if-error=50';

/** The count a petition page shows (the thermometer's value). */
const shownCount = (html: string) => Number(/<progress class="thermometer" max="\d+" value="(\d+)"/.exec(html)?.[1]);

describe(`public pages, the same for every visitor (${engine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const publicPages = [
    '/',
    '/privacy',
    `/petitions/${slug}`,
    `/petitions/${slug}?lang=fr`,
    `/petitions/${slug}/check-email`,
    `/demands/${letterDemand}`,
    `/demands/${letterDemand}/letters/new`,
  ];

  it('are byte-identical for two visitors, with no cookie and no token', async () => {
    for (const path of publicPages) {
      const one = await request(t.app).get(path).set('Accept-Language', 'en').expect(200);
      const two = await request(t.app).get(path).set('Accept-Language', 'en').expect(200);
      expect([path, two.text === one.text, two.headers.etag === one.headers.etag]).toEqual([path, true, true]);
      expect([path, one.text]).not.toEqual([path, expect.stringMatching(/_csrf/)]);
      // The one cookie a public page may set: the language a visitor picked with ?lang=.
      const cookies = path.endsWith('lang=fr') ? [expect.stringMatching(/^lang=fr;/)] : undefined;
      expect([path, one.headers['set-cookie'], two.headers['set-cookie']]).toEqual([path, cookies, cookies]);
    }
    // A visitor who already chose French gets the same French page, and no cookie again.
    const first = await request(t.app).get(`/petitions/${slug}?lang=fr`).expect(200);
    const chosen = await request(t.app).get(`/petitions/${slug}?lang=fr`).set('Cookie', 'lang=fr').expect(200);
    expect(chosen.text).toBe(first.text);
    expect(chosen.headers['set-cookie']).toBeUndefined();
    // The first visit sets the language cookie: that answer is the visitor's own, kept by no shared cache.
    expect(first.headers['set-cookie']).toBeDefined();
    expect(first.headers['cache-control']).toBe('private, no-cache');
  });

  it('carry Cache-Control for the count interval, vary on the language headers, and a strong ETag', async () => {
    for (const path of publicPages) {
      // (A visitor who already chose the language asked for: the first `?lang=` visit sets a cookie.)
      const res = await request(t.app)
        .get(path)
        .set('Cookie', path.includes('lang=fr') ? 'lang=fr' : '')
        .expect(200);
      expect([path, res.headers['cache-control']]).toEqual([path, publicCache]);
      expect([path, res.headers.vary]).toEqual([path, 'Accept-Language, Cookie']);
      expect([path, res.headers.etag]).toEqual([path, expect.stringMatching(/^"[\w-]{20,}"$/)]);
    }
    const json = await request(t.app).get(`/petitions/${slug}.json`).expect(200);
    expect(json.headers['cache-control']).toBe(publicCache);
    expect(json.headers.etag).toMatch(/^"[\w-]{20,}"$/);
  });

  it('answer 304 to a matching If-None-Match, and a new ETag once the count changes', async () => {
    for (const path of ['/', `/petitions/${slug}`, `/petitions/${slug}.json`, `/demands/${letterDemand}`]) {
      const first = await request(t.app).get(path).expect(200);
      const again = await request(t.app).get(path).set('If-None-Match', first.headers.etag!).expect(304);
      expect(again.text).toBe('');
      expect(again.headers['cache-control']).toBe(publicCache);
      expect(again.headers.etag).toBe(first.headers.etag);
      await request(t.app).get(path).set('If-None-Match', '"something-else"').expect(200);
    }
    const before = await request(t.app).get(`/petitions/${slug}`).expect(200);
    const agent = t.agent();
    await sign(agent, slug, { ...aSigner, email: 'etag@example.org' });
    const mail = await t.smtp!.waitFor(1);
    await confirm(agent, confirmPath(mail[0]!.text));
    const after = await request(t.app).get(`/petitions/${slug}`).set('If-None-Match', before.headers.etag!).expect(200);
    expect(shownCount(after.text)).toBe(shownCount(before.text) + 1);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('keep what belongs to one visitor out of every cache (no-store)', async () => {
    const agent = t.agent();
    await sign(agent, slug, { ...aSigner, email: 'private@example.org' });
    const mails = await t.smtp!.waitFor(2);
    const link = confirmPath(mails.find((m) => m.to && 'text' in m.to && m.to.text === 'private@example.org')!.text);
    const confirmPage = await agent.get(link).expect(200);
    expect(confirmPage.headers['cache-control']).toBe('no-store');
    const thanks = await agent.get(`/petitions/${slug}/thanks`).expect(200);
    expect(thanks.headers['cache-control']).toBe('no-store');
    // Its link to the petition is not the address this browser may still hold from before signing.
    expect(thanks.text).toContain(`href="/petitions/${slug}?signed"`);
    // A form sent back with its errors and the visitor's values, a POST's answer, an error page.
    const invalid = await agent
      .post(`/petitions/${slug}/signatures`)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ ...aSigner, email: 'not an address' })
      .expect(400);
    expect(invalid.headers['cache-control']).toBe('no-store');
    const signed = await agent
      .post(`/petitions/${slug}/signatures`)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ ...aSigner, email: 'second@example.org' })
      .expect(303);
    expect(signed.headers['cache-control']).toBe('no-store');
    const preview = await agent
      .post(`/demands/${letterDemand}/letters/preview`)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send(aLetter)
      .expect(200);
    expect(preview.headers['cache-control']).toBe('no-store');
    const missing = await agent.get('/petitions/no-such-petition').expect(404);
    expect(missing.headers['cache-control']).toBe('no-store');
  });

  it('set the lang cookie only when a visitor switches language', async () => {
    const switched = await request(t.app).get('/?lang=fr').expect(200);
    expect(switched.headers['set-cookie']).toEqual([expect.stringMatching(/^lang=fr;.*HttpOnly/)]);
    const kept = await request(t.app).get('/?lang=fr').set('Cookie', 'lang=fr').expect(200);
    expect(kept.headers['set-cookie']).toBeUndefined();
    const back = await request(t.app).get('/?lang=en').set('Cookie', 'lang=fr').expect(200);
    expect(back.headers['set-cookie']).toEqual([expect.stringMatching(/^lang=en;/)]);
  });
});

describe(`public POSTs: Fetch Metadata and Origin instead of a token (${engine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    const env = {
      SIGN_LIMIT_PER_MINUTE: '1000',
      SIGN_LIMIT_PER_5_MINUTES: '1000',
      LETTER_LIMIT_PER_MINUTE: '1000',
      LETTER_LIMIT_PER_5_MINUTES: '1000',
    };
    t = await createTestApp({ smtp: false, env });
  });
  afterAll(() => t.close());

  type Headers = Record<string, string>;
  const cases: Array<[string, Headers, 'allowed' | 'refused']> = [
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }, 'refused'],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }, 'refused'],
    ['Sec-Fetch-Site: same-origin', { 'Sec-Fetch-Site': 'same-origin' }, 'allowed'],
    ['Sec-Fetch-Site: none', { 'Sec-Fetch-Site': 'none' }, 'allowed'],
    // Sec-Fetch-Site decides when present, whatever Origin says.
    ['cross-site with our own Origin', { 'Sec-Fetch-Site': 'cross-site', Origin: baseUrl }, 'refused'],
    ['same-origin with Origin: null', { 'Sec-Fetch-Site': 'same-origin', Origin: 'null' }, 'allowed'],
    ['no Sec-Fetch-Site, a foreign Origin', { Origin: 'https://evil.example' }, 'refused'],
    ['no Sec-Fetch-Site, our host on another scheme', { Origin: 'https://localhost:3000' }, 'refused'],
    ['no Sec-Fetch-Site, our host on another port', { Origin: 'http://localhost:3001' }, 'refused'],
    ['no Sec-Fetch-Site, Origin: null', { Origin: 'null' }, 'refused'],
    ['no Sec-Fetch-Site, our own Origin', { Origin: baseUrl }, 'allowed'],
    ['neither header (curl, an old client)', {}, 'allowed'],
  ];
  let n = 0;

  describe.each(cases)('%s', (_name, headers, outcome) => {
    it(`is ${outcome} on the sign form`, async () => {
      const email = `case${n++}@example.org`;
      const res = await request(t.app)
        .post(`/petitions/${slug}/signatures`)
        .set(headers)
        .type('form')
        .send({ ...aSigner, email });
      const stored = await t.services.store.all(
        t.services.store.qb.selectFrom('signatures').select('id').where('email', '=', email),
      );
      if (outcome === 'allowed') {
        expect(res.status).toBe(303);
        expect(stored).toHaveLength(1);
      } else {
        expect(res.status).toBe(403);
        expect(res.text).toContain('This form came from another site');
        expect(stored).toHaveLength(0);
      }
    });

    it(`is ${outcome} on the letter forms (preview, send)`, async () => {
      const email = `letter${n++}@example.org`;
      const preview = await request(t.app)
        .post(`/demands/${letterDemand}/letters/preview`)
        .set(headers)
        .type('form')
        .send({ ...aLetter, email });
      const send = await request(t.app)
        .post(`/demands/${letterDemand}/letters`)
        .set(headers)
        .type('form')
        .send({ ...aLetter, email, body: `Dear delegation,\n\n${aLetter.ownWords}\n\nAda` });
      const stored = await t.services.store.all(
        t.services.store.qb.selectFrom('letters').select('id').where('email', '=', email),
      );
      if (outcome === 'allowed') {
        expect(preview.status).toBe(200);
        expect(send.status).toBe(303);
        expect(stored).toHaveLength(1);
      } else {
        expect([preview.status, send.status]).toEqual([403, 403]);
        expect(stored).toHaveLength(0);
      }
    });
  });

  it('refuses a cross-site Confirm on a signature or a letter link, and answers it in French for a French visitor', async () => {
    for (const path of ['/signatures/1.abc/confirm', '/letters/1.abc/confirm', '/letters/1.abc/self-sent']) {
      const res = await request(t.app)
        .post(path)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Accept-Language', 'fr')
        .type('form')
        .send({});
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.text).toContain('Ce formulaire vient d’un autre site');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('lets the RFC 8058 one-click unsubscribe through from anywhere (its token is the proof)', async () => {
    const res = await request(t.app)
      .post('/unsubscribe/1.abc')
      .set('Sec-Fetch-Site', 'cross-site')
      .type('form')
      .send({ 'List-Unsubscribe': 'One-Click' });
    expect(res.status).not.toBe(403);
  });

  it('leaves the console to its synchroniser tokens: a same-origin POST without one is still refused', async () => {
    await createAccount(t.services, 'grace@example.org', 'organiser');
    const organiser = t.agent();
    expect((await login(organiser, 'grace@example.org')).status).toBe(303);
    const res = await organiser
      .post(`/admin/petitions/${slug}/state`)
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Origin', baseUrl)
      .type('form')
      .send({ state: 'closed' });
    expect(res.status).toBe(403);
    expect((await t.services.petitions.findPetition(slug, 'en'))!.state).toBe('open');
  });
});

describe('behind a proxy that rewrites Host (TRUST_PROXY=1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false, env: { TRUST_PROXY: '1', BASE_URL: 'https://undersigned.example' } });
  });
  afterAll(() => t.close());

  let n = 0;
  const post = (origin: string, host: string) =>
    request(t.app)
      .post(`/petitions/${slug}/signatures`)
      .set('Host', host)
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', host)
      .set('Origin', origin)
      .type('form')
      .send({ ...aSigner, email: `proxy-${n++}@example.org` });

  it('compares Origin with BASE_URL, not with the Host the request names', async () => {
    expect((await post('https://undersigned.example', '127.0.0.1:3000')).status).toBe(303);
    expect((await post('https://evil.example', 'evil.example')).status).toBe(403);
    expect((await post('http://undersigned.example', 'undersigned.example')).status).toBe(403);
  });
});

describe(`the petition page after a confirmation (${engine})`, () => {
  it('is read and rendered once for all the viewers who arrive meanwhile, not once each', async () => {
    const statements: string[] = [];
    const t = await createTestApp({ smtp: false, traceSql: (sql) => statements.push(sql) });
    try {
      await request(t.app).get(`/petitions/${slug}`).expect(200);
      t.services.petitions.invalidate(); // as a confirmation does
      statements.length = 0;
      const views = await Promise.all(
        Array.from({ length: 20 }, () => request(t.app).get(`/petitions/${slug}`).expect(200)),
      );
      expect(new Set(views.map((v) => v.headers.etag)).size).toBe(1);
      // The public signers' query runs once per page read. (On SQLite a read ends before the next
      // request is parsed; on PostgreSQL the twenty overlap, and would each read without sharing.)
      expect(statements.filter((sql) => /show_publicly/i.test(sql))).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});

describe('COUNT_REFRESH_SECONDS', () => {
  it('keeps public pages for COUNT_REFRESH_SECONDS as configured', async () => {
    const other = await createTestApp({ smtp: false, env: { COUNT_REFRESH_SECONDS: '60' } });
    try {
      const res = await request(other.app).get(`/petitions/${slug}`).expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=120, stale-if-error=300');
    } finally {
      await other.close();
    }
  });
});
