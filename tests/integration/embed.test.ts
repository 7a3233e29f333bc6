import { sql } from 'kysely';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../server/config';
import { createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import {
  aSigner,
  baseUrl,
  confirm,
  confirmPath,
  countOn,
  createTestApp,
  sameOrigin,
  type TestApp,
} from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';
const embedPath = `/embed/petitions/${slug}`;
const publicCache = 'public, max-age=10, stale-while-revalidate=20, stale-if-error=50';
/** What a browser sends with a form posted from inside our frame on a partner's page. */
const fromTheFrame = sameOrigin;
const crossSite = { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://partner.example' };

const frameAncestors = (res: { headers: Record<string, unknown> }) =>
  /frame-ancestors ([^;]+)/.exec(String(res.headers['content-security-policy']))?.[1];

/**
 * Tags of an SVG or HTML fragment, opened and closed in order (self-closing ones aside): true when
 * every tag is closed where it should be.
 */
function balanced(markup: string): boolean {
  const stack: string[] = [];
  for (const m of markup.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]!);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0;
}

describe(`the embed (${engine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('framing (CSP frame-ancestors)', () => {
    it('lets any site frame /embed/* by default, and no page outside it', async () => {
      // The router matches paths in any case: so does the choice of headers.
      for (const path of [embedPath, `${embedPath}/check-email`, `/Embed/petitions/${slug}`]) {
        const res = await request(t.app).get(path).expect(200);
        expect([path, frameAncestors(res), res.headers['x-frame-options']]).toEqual([path, '*', undefined]);
      }
      for (const path of ['/', `/petitions/${slug}`, `/petitions/${slug}/check-email`, '/privacy', '/admin/login']) {
        const res = await request(t.app).get(path).expect(200);
        expect([path, frameAncestors(res), res.headers['x-frame-options']]).toEqual([path, "'none'", 'SAMEORIGIN']);
      }
    });

    it('lets only the sites in EMBED_ORIGINS (and our own console) frame it when they are listed', async () => {
      const listed = await createTestApp({
        smtp: false,
        env: { EMBED_ORIGINS: 'https://partner.example, https://*.friends.example' },
      });
      try {
        const embed = await request(listed.app).get(embedPath).expect(200);
        expect(frameAncestors(embed)).toBe("'self' https://partner.example https://*.friends.example");
        const page = await request(listed.app).get(`/petitions/${slug}`).expect(200);
        expect(frameAncestors(page)).toBe("'none'");
      } finally {
        await listed.close();
      }
    });

    it('refuses an EMBED_ORIGINS entry that is not an origin', () => {
      for (const bad of ['partner.example', 'https://partner.example/', 'https://partner.example/page']) {
        expect(() => loadConfig({ NODE_ENV: 'test', EMBED_ORIGINS: bad })).toThrow(ConfigError);
      }
      expect(loadConfig({ NODE_ENV: 'test' }).embedOrigins).toEqual(['*']);
    });
  });

  describe(`GET ${embedPath}`, () => {
    it('is a compact page: title, count, progress, the sign form posting inside the frame', async () => {
      await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Grace', country: 'FR' }]);
      t.services.petitions.invalidate(); // as a confirmation does
      const res = await request(t.app).get(embedPath).set('Accept-Language', 'en').expect(200);
      const html = res.text;
      expect(html).toContain('<html lang="en" class="embedded">');
      expect(html).toContain('NATO governments: fund defence fairly');
      expect(html).toMatch(/<strong>1 signature<\/strong>/);
      expect(html).toMatch(/<progress class="thermometer" max="\d+" value="1"/);
      expect(html).toContain(`<form method="post" action="${embedPath}/signatures?lang=en" novalidate>`);
      expect(html).toContain('<input type="hidden" name="source" value="">');
      // No site header or footer; no inline script (the resize script is a file).
      expect(html).not.toContain('site-header');
      expect(html).toContain('<script src="/assets/embed-frame.js" defer></script>');
      expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    });

    it('opens every link out of the frame in a new tab', async () => {
      const html = (await request(t.app).get(embedPath).expect(200)).text;
      const links = html.match(/<a [^>]*>/g) ?? [];
      expect(links.length).toBeGreaterThanOrEqual(3); // the full petition, the privacy notice, the site
      for (const link of links) expect(link).toMatch(/ target="_blank" rel="noopener"/);
      expect(links.some((l) => l.includes('href="/privacy"'))).toBe(true);
      expect(links.some((l) => l.includes(`href="/petitions/${slug}"`))).toBe(true);
    });

    it('speaks the visitor language, and sets no cookie even for ?lang=', async () => {
      const fr = await request(t.app).get(embedPath).set('Accept-Language', 'fr').expect(200);
      expect(fr.text).toContain('<html lang="fr" class="embedded">');
      expect(fr.text).toContain(`action="${embedPath}/signatures?lang=fr"`);
      const asked = await request(t.app).get(`${embedPath}?lang=fr`).expect(200);
      expect(asked.text).toBe(fr.text);
      expect(asked.headers['set-cookie']).toBeUndefined();
    });

    it('is cacheable like the pages, the same bytes for every visitor, and loadable by other sites', async () => {
      const one = await request(t.app).get(embedPath).set('Accept-Language', 'en').expect(200);
      const two = await request(t.app).get(embedPath).set('Accept-Language', 'en').expect(200);
      expect(two.text).toBe(one.text);
      expect(one.headers['set-cookie']).toBeUndefined();
      expect(one.headers['cache-control']).toBe(publicCache);
      expect(one.headers['cross-origin-resource-policy']).toBe('cross-origin');
      await request(t.app)
        .get(embedPath)
        .set('Accept-Language', 'en')
        .set('If-None-Match', one.headers.etag!)
        .expect(304);
    });

    it('is kept by no cache past the closing time: its max-age counts down to it', async () => {
      await t.services.petitions.setClosesAt(slug, Date.now() + 45_000);
      try {
        const res = await request(t.app).get(embedPath).expect(200);
        expect(res.headers['cache-control']).toBe('public, max-age=10, must-revalidate');
        await t.services.petitions.setClosesAt(slug, Date.now() + 4_500);
        const sooner = await request(t.app).get(embedPath).expect(200);
        expect(sooner.headers['cache-control']).toMatch(/^public, max-age=[34], must-revalidate$/);
      } finally {
        await t.services.petitions.setClosesAt(slug, null);
      }
    });

    it('answers 404 for an unknown petition', async () => {
      await request(t.app).get('/embed/petitions/no-such-petition').expect(404);
    });
  });

  describe(`POST ${embedPath}/signatures`, () => {
    it('signs from inside the frame: "check your email" in the frame, then counted once confirmed', async () => {
      const before = await countOn(t.agent(), slug);
      const agent = t.agent();
      const page = await agent.get(`${embedPath}?source=embed-partner.example`).expect(200);
      expect(page.text).toContain('<input type="hidden" name="source" value="embed-partner.example">');
      const posted = await agent
        .post(`${embedPath}/signatures?lang=en`)
        .set(fromTheFrame)
        .type('form')
        .send({ ...aSigner, email: 'framed@example.org', source: 'embed-partner.example' })
        .expect(303);
      expect(posted.headers.location).toBe(`${embedPath}/check-email?lang=en`);
      const check = await agent.get(posted.headers.location!).expect(200);
      expect(check.text).toContain('class="embedded"');
      expect(check.text).toContain('Check your email');
      expect(frameAncestors(check)).toBe('*');

      const mail = (await t.smtp!.waitFor(1)).find((m) => m.text?.includes('/confirm'))!;
      await confirm(t.agent(), confirmPath(mail.text)).then((r) => expect(r.status).toBe(303));
      expect(await countOn(t.agent(), slug)).toBe(before + 1);
      const row = await t.services.store.first(
        sql<{ source: string | null; state: string }>`SELECT source, state FROM signatures
         WHERE email = 'framed@example.org'`,
      );
      expect(row).toEqual({ source: 'embed-partner.example', state: 'validated' });
    });

    it('says "check your email" in the language of the frame', async () => {
      const res = await request(t.app)
        .post(`${embedPath}/signatures?lang=fr`)
        .set(fromTheFrame)
        .type('form')
        .send({ ...aSigner, email: 'cadre@example.org' })
        .expect(303);
      expect(res.headers.location).toBe(`${embedPath}/check-email?lang=fr`);
      const check = await request(t.app).get(res.headers.location!).expect(200);
      expect(check.text).toContain('<html lang="fr" class="embedded">');
      expect(check.headers['set-cookie']).toBeUndefined();
    });

    it('re-renders errors inside the frame, with the values and the source kept', async () => {
      const res = await request(t.app)
        .post(`${embedPath}/signatures?lang=en`)
        .set(fromTheFrame)
        .type('form')
        .send({ name: 'Ada Lovelace', email: 'not-an-address', country: 'GB', source: 'embed-partner.example' })
        .expect(400);
      expect(res.text).toContain('class="embedded"');
      expect(res.text).toContain('class="error-summary"');
      expect(res.text).toContain(`action="${embedPath}/signatures?lang=en"`);
      expect(res.text).toContain('value="Ada Lovelace"');
      expect(res.text).toContain('<input type="hidden" name="source" value="embed-partner.example">');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(frameAncestors(res)).toBe('*');
    });

    it("refuses a form written by the partner's own page (cross-site), as every public POST", async () => {
      await request(t.app)
        .post(`${embedPath}/signatures?lang=en`)
        .set(crossSite)
        .type('form')
        .send({ ...aSigner, email: 'forged@example.org' })
        .expect(403);
      const row = await t.services.store.first(sql`SELECT id FROM signatures WHERE email = 'forged@example.org'`);
      expect(row).toBeUndefined();
    });
  });

  describe('GET /embed.js', () => {
    it('is JavaScript, cached for an hour with an ETag, and loadable from other sites', async () => {
      const res = await request(t.app).get('/embed.js').expect(200);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=86400');
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(res.headers['set-cookie']).toBeUndefined();
      const js = res.text;
      // It checks where a message comes from, both ways: our origin, and its own frame.
      expect(js).toContain('event.origin !== origin || event.source !== frame.contentWindow');
      expect(js).toContain("'/embed/petitions/' + slug");
      expect(js).toContain("'embed-' + window.location.hostname");
      await request(t.app).get('/embed.js').set('If-None-Match', res.headers.etag!).expect(304);
    });
  });

  describe('GET /petitions/:slug/badge.svg', () => {
    const svgOf = (res: { body: unknown }) => (res.body as Buffer).toString('utf8');

    it('is an SVG with the count, a title, balanced tags, cacheable like the pages', async () => {
      const count = await countOn(t.agent(), slug);
      const res = await request(t.app).get(`/petitions/${slug}/badge.svg`).expect(200);
      expect(res.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
      expect(res.headers['cache-control']).toBe(publicCache);
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(res.headers['set-cookie']).toBeUndefined();
      const svg = svgOf(res);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(balanced(svg)).toBe(true);
      const words = `${count.toLocaleString('en')} signature${count === 1 ? '' : 's'}`;
      expect(svg).toContain(`<title>NATO governments: fund defence fairly, not through austerity: ${words}</title>`);
      expect(svg).toContain(`>Undersigned</text>`);
      expect(svg).toContain(`>${words}</text>`);
      await request(t.app).get(`/petitions/${slug}/badge.svg`).set('If-None-Match', res.headers.etag!).expect(304);
    });

    it('counts on, in English or French by ?lang=', async () => {
      const before = svgOf(await request(t.app).get(`/petitions/${slug}/badge.svg`).expect(200));
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        Array.from({ length: 1200 }, (_, i) => ({ name: `Signer ${i}`, country: 'DE' })),
      );
      t.services.petitions.invalidate();
      const count = await countOn(t.agent(), slug);
      expect(count).toBeGreaterThan(1200);
      const en = svgOf(await request(t.app).get(`/petitions/${slug}/badge.svg`).expect(200));
      expect(en).not.toBe(before);
      expect(en).toContain(`>${count.toLocaleString('en')} signatures</text>`);
      const fr = await request(t.app).get(`/petitions/${slug}/badge.svg?lang=fr`).expect(200);
      expect(fr.headers['set-cookie']).toBeUndefined();
      expect(svgOf(fr)).toContain(`>${new Intl.NumberFormat('fr').format(count)} signatures</text>`);
      expect(svgOf(fr)).toContain('<title>Gouvernements de l&#39;OTAN');
      expect(balanced(svgOf(fr))).toBe(true);
    });

    it('answers 404 for an unknown petition', async () => {
      await request(t.app).get('/petitions/no-such-petition/badge.svg').expect(404);
    });
  });

  describe('the console: GET /admin/petitions/:slug/embed', () => {
    it('shows the snippet to copy, a live preview made by it, and the badge', async () => {
      await createAccount(t.services, 'viewer@example.org', 'viewer');
      const agent = t.agent();
      await login(agent, 'viewer@example.org');
      const res = await agent.get(`/admin/petitions/${slug}/embed`).expect(200);
      const snippet = `<script src="${baseUrl}/embed.js" data-petition="${slug}" async></script>`;
      expect(res.text).toContain(
        `<textarea id="embed-snippet" class="embed-snippet" rows="2" readonly>${snippet
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&quot;')
          .replace(/=/g, '&#x3D;')}</textarea>`,
      );
      expect(res.text).toMatch(new RegExp(`<div class="embed-preview" data-undersigned-petition="${slug}"`));
      expect(res.text).toContain('<script src="/embed.js" async></script>');
      expect(res.text).toContain(`<img src="/petitions/${slug}/badge.svg?lang=en"`);
      expect(res.headers['cache-control']).toBe('no-store');
      await agent.get('/admin/petitions/no-such-petition/embed').expect(404);
      // The petitions list links to it.
      expect((await agent.get('/admin/petitions').expect(200)).text).toContain(`/admin/petitions/${slug}/embed`);
    });
  });
});
