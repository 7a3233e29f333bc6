import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import request from 'supertest';
import { createAccount, login } from '../helpers/admin';
import { aLetter, letterDemand, unescapeHtml } from '../helpers/letters';
import { aSigner, confirm, confirmPath, createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'fund-defence-fairly';

/** The value of the form's hidden source field on a page (exactly one). */
function sourceField(html: string): string {
  const fields = [...html.matchAll(/<input type="hidden" name="source" value="([^"]*)">/g)];
  if (fields.length !== 1) throw new Error(`${fields.length} source fields on the page`);
  return fields[0]![1]!;
}

describe(`source codes (${engine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** Signs from a page opened at `address`, posting the form as the page has it, and confirms. */
  async function signFrom(address: string, email: string): Promise<string> {
    const agent = t.agent();
    const page = await agent.get(address).expect(200);
    const source = sourceField(page.text);
    await agent
      .post(`/petitions/${slug}/signatures`)
      .set(sameOrigin)
      .type('form')
      .send({ ...aSigner, email, source })
      .expect(303);
    const isMine = () => t.smtp!.mails.find((m) => m.to && 'text' in m.to && m.to.text === email);
    while (!isMine()) await t.smtp!.waitFor(t.smtp!.mails.length + 1);
    await confirm(agent, confirmPath(isMine()!.text)).then((r) => expect(r.status).toBe(303));
    return source;
  }

  const stored = async (email: string) =>
    (await t.services.store.first(sql<{ source: string | null }>`SELECT source FROM signatures WHERE email = ${email}`))
      ?.source;

  describe('on the petition page', () => {
    it('fill the hidden field from ?source= or utm_*, sanitised, without touching the page kept for everyone', async () => {
      const plain = await request(t.app).get(`/petitions/${slug}`).set('Accept-Language', 'en').expect(200);
      expect(sourceField(plain.text)).toBe('');
      const cases: Array<[string, string]> = [
        ['?source=newsletter-42', 'newsletter-42'],
        ['?source=news%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'newsscriptalert1script'],
        ['?utm_source=mastodon&utm_medium=social&utm_campaign=spring', 'mastodon/social/spring'],
        ['?lang=en&utm_source=mastodon', 'mastodon'],
        [`?source=${'x'.repeat(90)}`, 'x'.repeat(64)],
        // Not the canonical query: rendered for that visitor, the source all the same.
        ['?source=flyer&page=2', 'flyer'],
        // Repeated: not a source at all.
        ['?source=a&source=b', ''],
      ];
      for (const [query, expected] of cases) {
        const res = await request(t.app).get(`/petitions/${slug}${query}`).set('Accept-Language', 'en').expect(200);
        expect([query, sourceField(res.text)]).toEqual([query, expected]);
        if (expected) expect([query, res.headers.etag === plain.headers.etag]).toEqual([query, false]);
      }
      // The plain page is still the same bytes, with an empty field.
      const again = await request(t.app).get(`/petitions/${slug}`).set('Accept-Language', 'en').expect(200);
      expect(again.text).toBe(plain.text);
      expect(again.headers.etag).toBe(plain.headers.etag);
    });

    it('has share links that say their channel (source=share-<channel>)', async () => {
      const html = unescapeHtml((await request(t.app).get(`/petitions/${slug}`).expect(200)).text);
      const url = `http://localhost:3000/petitions/${slug}`;
      for (const channel of ['email', 'x', 'facebook', 'whatsapp']) {
        const encoded = encodeURIComponent(`${url}?source=share-${channel}`);
        expect([channel, html.includes(encoded)]).toEqual([channel, true]);
      }
      expect(html).toContain(`id="share-url" type="text" readonly value="${url}?source=share-copy"`);
    });

    it('keeps the source when the form comes back with errors', async () => {
      const res = await request(t.app)
        .post(`/petitions/${slug}/signatures`)
        .set(sameOrigin)
        .type('form')
        .send({ name: '', email: 'x@example.org', country: 'GB', source: 'share-x' })
        .expect(400);
      expect(sourceField(res.text)).toBe('share-x');
    });
  });

  describe('stored with the signature', () => {
    it('end to end: from the address to the row, the export and the console', async () => {
      expect(
        await signFrom(
          `/petitions/${slug}?utm_source=newsletter&utm_medium=email&utm_campaign=spring`,
          'utm@example.org',
        ),
      ).toBe('newsletter/email/spring');
      await signFrom(`/petitions/${slug}?source=share-whatsapp`, 'wa1@example.org');
      await signFrom(`/petitions/${slug}?source=share-whatsapp`, 'wa2@example.org');
      await signFrom(`/petitions/${slug}`, 'direct@example.org');
      expect(await stored('utm@example.org')).toBe('newsletter/email/spring');
      expect(await stored('wa1@example.org')).toBe('share-whatsapp');
      expect(await stored('direct@example.org')).toBeNull();

      await createAccount(t.services, 'organiser@example.org', 'organiser');
      const agent = t.agent();
      await login(agent, 'organiser@example.org');
      const csv = await agent.get(`/admin/exports/signatures.csv?petition=${slug}`).buffer(true).expect(200);
      const rows = parse(csv.text, { bom: true, columns: true }) as Array<Record<string, string>>;
      const sourceOf = (email: string) => rows.find((r) => r.email === email)?.source;
      expect(sourceOf('utm@example.org')).toBe('newsletter/email/spring');
      expect(sourceOf('wa2@example.org')).toBe('share-whatsapp');
      expect(sourceOf('direct@example.org')).toBe('');

      const page = (await agent.get(`/admin/petitions/${slug}/embed`).expect(200)).text;
      const table = page.slice(page.indexOf('<table class="console-table sources-table">'), page.indexOf('</table>'));
      const counted = [...table.matchAll(/<tr><th scope="row">(.*?)<\/th><td class="num">(\d+)<\/td><\/tr>/g)].map(
        (m) => [m[1]!.replace(/<\/?code>/g, ''), Number(m[2])],
      );
      expect(counted).toEqual([
        ['share-whatsapp', 2],
        ['newsletter/email/spring', 1],
        ['No source (came directly)', 1],
        ['Total', 4],
      ]);
    });

    it('sanitises a source posted by hand', async () => {
      await request(t.app)
        .post(`/petitions/${slug}/signatures`)
        .set(sameOrigin)
        .type('form')
        .send({ ...aSigner, email: 'forged@example.org', source: '=cmd|"/c calc"!A1/x y/z/w' })
        .expect(303);
      expect(await stored('forged@example.org')).toBe('cmd/ccalcA1/xy');
    });
  });

  describe('stored with the letter', () => {
    it('carries ?source= from the letter form through the preview to the letter', async () => {
      const agent = t.agent();
      const form = await agent.get(`/demands/${letterDemand}/letters/new?source=flyer-paris`).expect(200);
      const source = sourceField(form.text);
      expect(source).toBe('flyer-paris');
      const fields = { ...aLetter, email: 'writer@example.org', source };
      const preview = await agent
        .post(`/demands/${letterDemand}/letters/preview`)
        .set(sameOrigin)
        .type('form')
        .send(fields)
        .expect(200);
      const carried = [...preview.text.matchAll(/<input type="hidden" name="source" value="([^"]*)">/g)].map(
        (m) => m[1],
      );
      expect(carried.length).toBeGreaterThan(0);
      expect(new Set(carried)).toEqual(new Set(['flyer-paris']));
      const body = unescapeHtml(/<textarea id="field-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(preview.text)![1]!);
      await agent
        .post(`/demands/${letterDemand}/letters`)
        .set(sameOrigin)
        .type('form')
        .send({ ...fields, body })
        .expect(303);
      const row = await t.services.store.first(
        sql<{ source: string | null }>`SELECT source FROM letters WHERE email = 'writer@example.org'`,
      );
      expect(row?.source).toBe('flyer-paris');
    });
  });
});
