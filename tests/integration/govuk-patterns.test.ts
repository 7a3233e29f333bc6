import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { aSigner, createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const demand = 'progressive-taxation';

/** What `main` holds, up to its end. */
function mainOf(html: string): string {
  const start = html.indexOf('<main');
  return html.slice(html.indexOf('>', start) + 1, html.indexOf('</main>'));
}

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)![1]!;

/**
 * GOV.UK's error summary: the first thing in `main` (a console page's navigation bar, like GOV.UK's
 * back link, may come before it), before the h1 and before the form.
 */
function expectSummaryAtTop(html: string, { afterConsoleBar = false } = {}): void {
  let main = mainOf(html).trim();
  if (afterConsoleBar) {
    expect(main.startsWith('<div class="console-bar">')).toBe(true);
    main = main.slice(main.indexOf('</nav>')).replace(/^[\s\S]*?<\/div>\s*/, '');
  }
  expect(main.slice(0, 200)).toMatch(/^<div class="error-summary" role="alert"/);
  expect(main.indexOf('class="error-summary"')).toBeLessThan(main.indexOf('<h1'));
}

describe('GOV.UK patterns', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterAll(() => t.close());

  describe('a form shown again with its errors', () => {
    const signBlank = (agent: TestAgent, lang: string) =>
      agent
        .post(`/petitions/${slug}/signatures`)
        .set(sameOrigin)
        .set('Accept-Language', lang)
        .type('form')
        .send({ ...aSigner, email: '' });

    it('the sign form: the summary at the top of main, and a title that starts with "Error: "', async () => {
      const res = await signBlank(t.agent(), 'en');
      expect(res.status).toBe(400);
      expectSummaryAtTop(res.text);
      expect(titleOf(res.text)).toMatch(/^Error: NATO governments: fund defence fairly/);
      expect(res.text).toContain('<a href="#field-email">Enter your email address</a>');
      const fr = await signBlank(t.agent(), 'fr');
      expect(fr.status).toBe(400);
      expectSummaryAtTop(fr.text);
      expect(titleOf(fr.text)).toMatch(/^Erreur : /);
      // Without errors, no summary and no "Error:".
      const page = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(page.text).not.toContain('class="error-summary"');
      expect(titleOf(page.text)).not.toMatch(/^Error/);
    });

    it('the letter form, in English and French', async () => {
      for (const [lang, prefix] of [
        ['en', /^Error: /],
        ['fr', /^Erreur : /],
      ] as const) {
        const res = await t
          .agent()
          .post(`/demands/${demand}/letters/preview`)
          .set(sameOrigin)
          .set('Accept-Language', lang)
          .type('form')
          .send({ name: '', email: '', country: '', ownWords: '' });
        expect([lang, res.status]).toEqual([lang, 400]);
        expectSummaryAtTop(res.text);
        expect(titleOf(res.text)).toMatch(prefix);
      }
      const blank = await t.agent().get(`/demands/${demand}/letters/new`).expect(200);
      expect(titleOf(blank.text)).not.toMatch(/^Error/);
    });

    it('a console form, and the login form', async () => {
      await createAccount(t.services, 'org@example.org', 'organiser');
      const organiser = t.agent();
      await login(organiser, 'org@example.org');
      const token = await consoleToken(organiser);
      for (const [lang, prefix] of [
        ['en', /^Error: /],
        ['fr', /^Erreur : /],
      ] as const) {
        const res = await organiser
          .post('/admin/targets')
          .set('Accept-Language', lang)
          .type('form')
          .send({ _csrf: token, kind: 'nato_delegation', country: '', name: '', languages: '' });
        expect([lang, res.status]).toEqual([lang, 400]);
        expectSummaryAtTop(res.text, { afterConsoleBar: true });
        expect(titleOf(res.text)).toMatch(prefix);
      }
      const fresh = t.agent();
      const form = await fresh.get('/admin/login').expect(200);
      expect(titleOf(form.text)).not.toMatch(/^Error/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
      const failed = await fresh
        .post('/admin/login')
        .type('form')
        .send({ _csrf: csrf, email: 'org@example.org', password: 'wrong' });
      expect(titleOf(failed.text)).toMatch(/^Error: /);
      const panel = mainOf(failed.text);
      expect(panel.indexOf('class="error-summary"')).toBeLessThan(panel.indexOf('<h1'));
    });
  });

  describe('dates', () => {
    it('are British in the English console ("30 November 2026"), and French in French', async () => {
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [{ name: 'Dora Date', country: 'GB', email: 'dora@example.org' }],
        Date.UTC(2026, 10, 30, 12),
      );
      await createAccount(t.services, 'viewer@example.org', 'viewer');
      const viewer = t.agent();
      await login(viewer, 'viewer@example.org');
      const en = await viewer.get('/admin/signatures?q=dora%40example.org').set('Accept-Language', 'en').expect(200);
      expect(en.text).toContain('<td>30 November 2026</td>');
      expect(en.text).not.toContain('November 30, 2026');
      const fr = await viewer.get('/admin/signatures?q=dora%40example.org').set('Accept-Language', 'fr').expect(200);
      expect(fr.text).toContain('<td>30 novembre 2026</td>');
    });
  });
});
