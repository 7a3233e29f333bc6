import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../../server/config';
import { classLimits, shades } from '../../server/map/choropleth';
import { compactPath } from '../../server/map/compactPath';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

/** The SVG as text (supertest buffers an image's body as bytes). */
const svgOf = (res: { body: unknown }) => (res.body as Buffer).toString('utf8');

describe('the signatures-by-country map', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    await addValidatedSignaturesTo(t.services.store, slug, [
      ...Array.from({ length: 40 }, (_, i) => ({ name: `Anna ${i}`, country: 'DE' })),
      { name: 'Élodie', country: 'FR' },
      { name: 'Ayşe', country: 'TR' },
      { name: 'Νίκος', country: 'GR' },
      { name: 'Vjosa', country: 'XK' },
    ]);
  });
  afterAll(async () => t.close());

  it('draws a path per country with signatures, with its count, a title and a description', async () => {
    const res = await t.agent().get(`/petitions/${slug}/map.svg`).set('Accept-Language', 'en').expect(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    const svg = svgOf(res);
    // (Checked on parts, so that a failure does not print 50 kB of outlines.)
    expect(svg.slice(0, svg.indexOf('<rect'))).toMatch(
      /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]* role="img" aria-labelledby="map-title map-desc"><title id="map-title">Signatures by country, on a world map<\/title><desc id="map-desc">[^<]+<\/desc>$/,
    );
    const shaded = [...svg.matchAll(/data-country="([A-Z]{2})" data-count="(\d+)"><title>([^<]+)<\/title>/g)];
    expect(Object.fromEntries(shaded.map((m) => [m[1], Number(m[2])]))).toEqual({ DE: 40, FR: 1, TR: 1, GR: 1, XK: 1 });
    expect(shaded.find((m) => m[1] === 'DE')![3]).toBe('Germany: 40 signatures');
    // Every other country is drawn, unshaded; the legend names the classes.
    expect((svg.match(/<path /g) ?? []).length).toBeGreaterThan(150);
    const legend = [...svg.matchAll(/<text [^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(legend).toEqual(['None yet', '1', '2 to 3', '4 to 8', '9 to 19', '20 to 40']);
    // Tags balance: a cheap well-formedness check (the browser test parses it for real).
    for (const tag of ['svg', 'g', 'title', 'desc', 'text']) {
      const open = (svg.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
      expect((svg.match(new RegExp(`</${tag}>`, 'g')) ?? []).length).toBe(open);
    }
  });

  it('speaks the reader’s language', async () => {
    const res = await t.agent().get(`/petitions/${slug}/map.svg?lang=fr`).expect(200);
    const titles = [...svgOf(res).matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(titles).toContain('Allemagne : 40 signatures');
    expect(svgOf(res).match(/<text [^>]*>([^<]+)<\/text>/)?.[1]).toBe('Aucune pour l&apos;instant');
  });

  it('is cacheable like the page, and answers 304 to a matching ETag', async () => {
    const first = await t.agent().get(`/petitions/${slug}/map.svg`).expect(200);
    expect(first.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=20, stale-if-error=50');
    expect(first.headers['set-cookie']).toBeUndefined();
    await t.agent().get(`/petitions/${slug}/map.svg`).set('If-None-Match', first.headers.etag!).expect(304);
  });

  it('is shown on the petition page, with the table as its alternative', async () => {
    const res = await t.agent().get(`/petitions/${slug}`).expect(200);
    expect(res.text).toContain(
      `<img src="/petitions/${slug}/map.svg?lang=en" alt="World map of signatures by country.`,
    );
    expect(res.text).toMatch(/<table class="by-country">/);
  });

  it('answers 404 for an unknown petition', async () => {
    await t.agent().get('/petitions/no-such-petition/map.svg').expect(404);
  });
});

describe('map classes and outlines', () => {
  it('spaces the classes logarithmically up to the largest count', () => {
    expect(classLimits(3)).toEqual([1, 2, 3]);
    const limits = classLimits(10_000);
    expect(limits).toHaveLength(shades.length);
    expect(limits.at(-1)).toBe(10_000);
    expect(limits).toEqual([...limits].sort((a, b) => a - b));
    expect(limits[0]).toBeLessThan(10);
  });

  it('writes outlines as relative moves without repeated points', () => {
    expect(compactPath('M1,2L3,4L3,4L5,6ZM10,10L11,11Z')).toBe('M1,2l2,2l2,2zm9,8l1,1z');
  });

  it('checks in the outlines the build script makes', () => {
    const built = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "process.stdout.write(JSON.stringify(require('./server/map/buildWorldShapes.ts').buildShapes()) + '\\n')",
      ],
      { cwd: appRoot, encoding: 'utf8' },
    );
    expect(built).toBe(fs.readFileSync(path.join(appRoot, 'server', 'map', 'world-shapes.json'), 'utf8'));
  });
});
