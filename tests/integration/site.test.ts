import { sql } from 'kysely';
import { once } from 'node:events';
import net from 'node:net';
import request from 'supertest';
import { aSigner, confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { consentVersion } from '../../server/signatures/consent';
import { until } from '../helpers/until';

const slug = 'fund-defence-fairly';

/** Sends `GET <target>` on a raw socket, as written, and returns the whole response. */
async function rawGet(t: TestApp, target: string): Promise<string> {
  const server = t.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    // Written, not ended: a client that half-closes its side gets no answer that takes the server
    // any time to make (Node's server ends the connection), and the database may take some.
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    let response = '';
    for await (const chunk of socket) response += String(chunk);
    return response;
  } finally {
    server.close();
  }
}

describe('the public site', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('GET /', () => {
    it('shows the campaign, its five demands each linking to a petition, and cites the source', async () => {
      const res = await t.agent().get('/').expect(200);
      expect(res.text).toContain('<html lang="en">');
      expect(res.text.match(/class="demand"/g)).toHaveLength(5);
      expect(res.text).toContain(`href="/petitions/${slug}"`);
      expect(res.text).toContain('Agnès Callamard');
      expect(res.text).toContain('Le Monde diplomatique');
    });

    it('speaks French when asked, remembers it, and sets <html lang>', async () => {
      const agent = t.agent();
      const res = await agent.get('/?lang=fr').expect(200);
      expect(res.text).toContain('<html lang="fr">');
      expect(res.text).toContain('OTAN');
      const next = await agent.get(`/petitions/${slug}`).expect(200);
      expect(next.text).toContain('<html lang="fr">');
      expect(next.text).toContain('Signer cette pétition');
    });

    it('follows Accept-Language when no choice was made', async () => {
      const res = await request(t.app).get('/').set('Accept-Language', 'fr-BE,fr;q=0.9').expect(200);
      expect(res.text).toContain('<html lang="fr">');
    });
  });

  describe('GET /petitions/:slug', () => {
    it('shows the text, the count, the thermometer, share links, Open Graph tags and the sign form', async () => {
      const res = await t.agent().get(`/petitions/${slug}`).expect(200);
      res.text = res.text.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      expect(res.text).toContain('0 signatures');
      expect(res.text).toMatch(/<progress class="thermometer" max="\d+" value="0"/);
      expect(res.text).toContain('property="og:title"');
      expect(res.text).toContain(`property="og:url" content="http://localhost:3000/petitions/${slug}"`);
      expect(res.text).toContain('https://wa.me/?text=');
      expect(res.text).toContain('https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Flocalhost%3A3000');
      expect(res.text).toContain('href="/privacy"');
      // NATO members first, then every other country.
      const nato = res.text.indexOf('NATO member states');
      const others = res.text.indexOf('Other countries');
      expect(nato).toBeGreaterThan(0);
      expect(res.text.slice(nato, others)).toContain('<option value="FR">France</option>');
      expect(res.text.slice(others)).toContain('<option value="BR">Brazil</option>');
      expect(res.text).toMatch(/id="field-showPublicly" name="showPublicly" type="checkbox">/); // unchecked
      // The form says what happens to a postcode before anyone types one.
      expect(res.text).toContain('If you give it, it goes to the delegations with your name');
      expect(res.text).toContain('aria-describedby="field-postcode-hint"');
    });

    it('states on the privacy notice what delegations receive, and its version, which signatures keep', async () => {
      const res = await t.agent().get('/privacy').expect(200);
      expect(res.text).toContain('your postcode or town if you give it');
      expect(res.text).toContain(`Version ${consentVersion} of this notice`);
    });

    it('gives every visitor the same page, with no cookie and no token, and each of them can sign', async () => {
      t.services.petitions.invalidate(); // the first view renders the page
      const first = await request(t.app).get(`/petitions/${slug}`).expect(200);
      const second = await request(t.app).get(`/petitions/${slug}`).expect(200);
      expect(first.headers['set-cookie']).toBeUndefined();
      expect(second.headers['set-cookie']).toBeUndefined();
      expect(second.text).toBe(first.text);
      expect(first.text).not.toContain('_csrf');
      for (const name of ['one', 'two']) {
        await request(t.app)
          .post(`/petitions/${slug}/signatures`)
          .set('Sec-Fetch-Site', 'same-origin')
          .type('form')
          .send({ ...aSigner, email: `${name}@example.org` })
          .expect(303);
      }
    });

    it('writes a million signatures in French with the plural French uses for it', async () => {
      await t.services.store.run(
        sql`UPDATE petition_counts SET validated = 1000000
            WHERE petition_id = (SELECT id FROM petitions WHERE slug = ${'protect-civil-society'})`,
      );
      t.services.petitions.invalidate();
      const res = await t.agent().get('/petitions/protect-civil-society?lang=fr').expect(200);
      expect(res.text).toMatch(/1\s000\s000 signatures/u);
      expect(res.text).not.toContain('petition.count');
    });

    it('keeps the language switch on this site, whatever the address asked for', async () => {
      const res = await request(t.app).get('//evil.example/x').expect(404);
      expect(res.text).toContain('href="/evil.example/x?lang&#x3D;fr"');
      expect(res.text).not.toContain('href="//');
    });

    it('keeps the language switch on this site when the request names a host (absolute-form target)', async () => {
      // A browser never sends this, but a proxy or a script may: `GET http://evil.example//x HTTP/1.1`.
      const notFound = await rawGet(t, 'http://evil.example//x');
      expect(notFound).toMatch(/^HTTP\/1\.1 404/);
      expect(notFound).toContain('href="/x?lang&#x3D;fr"');
      expect(notFound).not.toContain('evil.example');

      const petition = await rawGet(t, `http://evil.example/petitions/${slug}?lang=en&ref=x`);
      expect(petition).toMatch(/^HTTP\/1\.1 200/);
      expect(petition).toContain(`href="/petitions/${slug}?lang&#x3D;fr"`);
      expect(petition).not.toContain('evil.example');

      const errorPage = await rawGet(t, 'https://evil.example/unsubscribe/x?ref=1&lang=en');
      expect(errorPage).toContain('href="/unsubscribe/x?ref&#x3D;1&amp;lang&#x3D;fr"');
      expect(errorPage).not.toContain('evil.example');

      // A page of a router mounted below the root keeps its whole path.
      const login = await rawGet(t, 'http://evil.example/admin/login');
      expect(login).toContain('href="/admin/login?lang&#x3D;fr"');
      expect(login).not.toContain('evil.example');
    });

    it('answers an unknown petition with a 404 page', async () => {
      const res = await t.agent().get('/petitions/no-such-thing').expect(404);
      expect(res.text).toContain('Page not found');
    });

    it('never runs COUNT(*) to show a page: it reads the counters', async () => {
      const statements: string[] = [];
      const traced = await createTestApp({ traceSql: (sql) => statements.push(sql) });
      try {
        const agent = traced.agent();
        await sign(agent, slug);
        await confirm(agent, confirmPath((await traced.smtp!.waitFor(1))[0]!.text));
        statements.length = 0;
        const page = await agent.get(`/petitions/${slug}`).expect(200);
        expect(page.text).toContain('1 signature');
        expect(statements.some((sql) => /petition_counts/.test(sql))).toBe(true);
        expect(statements.filter((sql) => /count\(/i.test(sql))).toEqual([]);
      } finally {
        await traced.close();
      }
    });
  });

  describe('GET /petitions/:slug.json', () => {
    it('gives the count, goal and counts by country, cacheable', async () => {
      const agent = t.agent();
      await sign(agent, slug, { ...aSigner, email: 'json@example.org', country: 'BE' });
      // Mail from the tests before may still be arriving: wait for this one.
      const mail = await until(
        () => t.smtp!.mails.find((m) => JSON.stringify(m.to).includes('json@example.org')),
        'the mail to json@example.org',
      );
      await confirm(agent, confirmPath(mail!.text));
      const res = await agent.get(`/petitions/${slug}.json`).expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=20, stale-if-error=50');
      expect(res.body).toMatchObject({ slug, count: 1, countsByCountry: { BE: 1 } });
      expect(res.body.goal).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toContain('json@example.org');
    });
  });

  describe('headers', () => {
    it('sends a CSP with no inline script, and the other protective headers', async () => {
      const res = await t.agent().get('/').expect(200);
      const csp = res.headers['content-security-policy']!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('sets no cookie on a read-only page view (no session for the public)', async () => {
      const res = await request(t.app).get('/').expect(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });
});
