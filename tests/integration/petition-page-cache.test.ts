import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

const entities: Record<string, string> = { '&amp;': '&', '&#x3D;': '=', '&quot;': '"', '&#x27;': "'" };

/** The language links of a page, as a visitor's browser would follow them. */
function languageLinks(html: string): string[] {
  return [...html.matchAll(/<a href="([^"]*)" lang="[a-z]+" hreflang=/g)].map((m) =>
    m[1]!.replace(/&[#\w]+;/g, (e) => entities[e] ?? e),
  );
}

describe('GET /petitions/:slug (the page kept for everyone)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterEach(() => t.close());

  it('is not poisoned by a repeated ?lang=: the next visitor’s language link stays plain', async () => {
    const odd = await t.agent().get(`/petitions/${slug}?lang=zz&lang=zz`).expect(200);
    // The odd request itself gets links built from the petition's address, not from its query.
    expect(languageLinks(odd.text)).toEqual([`/petitions/${slug}?lang=fr`]);

    const next = await t.agent().get(`/petitions/${slug}`).expect(200);
    expect(languageLinks(next.text)).toEqual([`/petitions/${slug}?lang=fr`]);
    expect(next.text).not.toContain('lang=zz');
  });

  it('keeps no render made for an unusual address', async () => {
    const unusual = [
      `/petitions/${slug}?lang=en&lang=en`,
      `/petitions/${slug}?lang=EN`,
      `/petitions/${slug}?lang=fr&utm_source=x%22%3E`,
      `/petitions/${slug}?lang=fr&&lang=en`,
      `/petitions/${slug.toUpperCase()}`,
      `/petitions/${slug}/`,
      `//petitions/${slug}?lang=en&x`,
    ];
    for (const address of unusual) await t.agent().get(address);
    for (const lang of ['en', 'fr'] as const) {
      const page = await t.agent().get(`/petitions/${slug}`).set('Accept-Language', lang).expect(200);
      expect(languageLinks(page.text)).toEqual([`/petitions/${slug}?lang=${lang === 'en' ? 'fr' : 'en'}`]);
      expect(page.text).not.toMatch(/utm_source|lang=EN|FUND-DEFENCE|fairly\/\?/);
    }
  });

  it('serves the canonical addresses from the kept page, in the language asked for', async () => {
    const fr = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
    expect(fr.text).toContain('<html lang="fr">');
    expect(languageLinks(fr.text)).toEqual([`/petitions/${slug}?lang=en`]);
    const again = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
    expect(again.text).toContain('<html lang="fr">');
  });

  it('builds other pages’ language links without any lang the address carried', async () => {
    // Two lang values choose neither: the page is in English, and its one link is to French.
    const home = await t.agent().get('/?lang=zz&page=2&lang=fr').expect(200);
    expect(languageLinks(home.text)).toEqual(['/?page=2&lang=fr']);
  });
});
