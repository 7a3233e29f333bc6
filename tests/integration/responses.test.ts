import { sql } from 'kysely';
import type TestAgent from 'supertest/lib/agent';
import { createResponses } from '../../server/responses/responses';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { unescapeHtml } from '../helpers/letters';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const demandSlug = 'progressive-taxation';
const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';

/** The Responses section of a page, as text per answer. */
function responseItems(html: string): string[] {
  const section = /<section class="responses"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
  return [...section.matchAll(/<li class="response"[^>]*>([\s\S]*?)<\/li>/g)].map((m) =>
    m[1]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

describe('delegations’ responses', () => {
  let t: TestApp;
  let now: number;
  let agent: TestAgent;
  let token: string;
  let germanyId: number;

  beforeEach(async () => {
    now = Date.UTC(2026, 11, 1, 12);
    t = await createTestApp({ smtp: false, clock: () => now });
    await createAccount(t.services, 'org@example.org', 'organiser');
    agent = t.agent();
    await login(agent, 'org@example.org');
    token = await consoleToken(agent, '/admin/responses/new');
    germanyId = (await t.services.targets.forCountry('DE')).find((x) => x.isDefault)!.id;
  });
  afterEach(() => t.close());

  const form = (over: Record<string, string> = {}) => ({
    _csrf: token,
    target: String(germanyId),
    about: `petition:${slug}`,
    receivedOn: '2026-11-30',
    channel: 'letter',
    body: 'We thank the signers.\n\nThe delegation <script>alert(1)</script> will raise it in Council.',
    link: 'https://example.org/answer?id=1&x=2',
    isPublic: 'on',
    ...over,
  });
  const audits = (action: string) =>
    t.services.store.all(
      sql<{ subject: string; details: string }>`SELECT subject, details FROM audit_log WHERE action = ${action}`,
    );

  describe('the console', () => {
    it('re-renders an empty form with a message beside each field and in the summary', async () => {
      const res = await agent.post('/admin/responses').type('form').send({ _csrf: token, body: '  ' }).expect(400);
      for (const message of [
        'Choose the delegation that answered',
        'Choose the petition or the demand the response is about',
        'Enter the date the response was received',
        'Choose how the response came',
        'Enter the response or a summary of it',
      ]) {
        expect(res.text.split(message).length - 1).toBe(2); // in the summary and beside the field
      }
      expect(await t.services.responses.list('en')).toEqual([]);
    });

    it('refuses a future date, a link that is not http(s), an unknown delegation and a text too long, keeping the values', async () => {
      const res = await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ receivedOn: '2026-12-02', link: 'javascript:alert(1)', target: '999999' }))
        .expect(400);
      expect(res.text).toContain('Enter a date that is today or in the past');
      expect(res.text).toContain('Enter a link that starts with https:// or http://');
      expect(res.text).toContain('Choose a delegation from the list');
      expect(res.text).toContain('value="2026-12-02"');
      expect(res.text).toContain('value="javascript:alert(1)"');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; will raise it');
      expect(res.text).toMatch(/<option value="letter" selected>/);

      const long = await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ body: 'é'.repeat(10_001), receivedOn: '2026-13-01' }))
        .expect(400);
      expect(long.text).toContain('Shorten the response to 10,000 characters or fewer');
      expect(long.text).toContain('Enter a real date');
      // Today in Brussels is allowed, and 10,000 characters of any script fit the form.
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ body: 'é'.repeat(10_000), receivedOn: '2026-12-01' }))
        .expect(303);
    });

    it('records, edits and deletes a response, each audited', async () => {
      const created = await agent.post('/admin/responses').type('form').send(form()).expect(303);
      expect(created.headers.location).toBe('/admin/responses?notice=responseSaved');
      const list = await agent.get(created.headers.location!).expect(200);
      expect(list.text).toContain('The response has been saved.');
      expect(list.text).toContain(germany);
      expect(list.text).toContain('By letter');
      const id = Number(/\/admin\/responses\/(\d+)\/edit/.exec(list.text)![1]);
      const [create] = await audits('response.create');
      expect(create!.subject).toBe(String(id));
      expect(JSON.parse(create!.details)).toMatchObject({
        delegation: germany,
        about: `petition:${slug}`,
        receivedOn: '2026-11-30',
        channel: 'letter',
        public: true,
      });

      const edit = await agent.get(`/admin/responses/${id}/edit`).expect(200);
      expect(edit.text).toContain('value="2026-11-30"');
      expect(edit.text).toContain(`<option value="demand:${demandSlug}">`);
      expect(edit.text).toMatch(new RegExp(`<option value="petition:${slug}" selected>`));
      await agent
        .post(`/admin/responses/${id}`)
        .type('form')
        .send(form({ channel: 'meeting', about: `demand:${demandSlug}`, isPublic: '' }))
        .expect(303);
      const [update] = await audits('response.update');
      expect(JSON.parse(update!.details)).toEqual({
        about: { from: `petition:${slug}`, to: `demand:${demandSlug}` },
        channel: { from: 'letter', to: 'meeting' },
        public: { from: true, to: false },
      });
      const row = (await t.services.responses.find(id, 'en'))!;
      expect(row).toMatchObject({ channel: 'meeting', demandSlug, petitionSlug: null, isPublic: 0 });

      await agent.post(`/admin/responses/${id}/delete`).type('form').send({ _csrf: token }).expect(303);
      expect(await t.services.responses.find(id, 'en')).toBeUndefined();
      // A second click finds it gone: the same answer, and one deletion in the log.
      await agent.post(`/admin/responses/${id}/delete`).type('form').send({ _csrf: token }).expect(303);
      expect((await audits('response.delete')).map((a) => a.subject)).toEqual([String(id)]);
      await agent.get(`/admin/responses/${id}/edit`).expect(404);
    });

    /** A field's value as the composer shows it, unescaped. */
    function field(html: string, name: string): string {
      const m =
        new RegExp(`<textarea id="field-${name}"[^>]*>([^<]*)</textarea>`).exec(html) ??
        new RegExp(`<input id="field-${name}"[^>]*value="([^"]*)"`).exec(html);
      return unescapeHtml(m?.[1] ?? '');
    }

    it('links “Tell the signers” to the update composer, prefilled in English and French for the delegation’s country', async () => {
      await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Gerda', country: 'DE', updates: true }]);
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ about: `demand:${demandSlug}` }))
        .expect(303);
      const list = await agent.get('/admin/responses').expect(200);
      const href = unescapeHtml(/class="tell-signers" href="([^"]+)"/.exec(list.text)![1]!);
      const { id } = (await t.services.store.first(sql<{ id: number }>`SELECT id FROM delegation_responses`))!;
      // A demand's answer goes to the signers of the demand's petition; the address names the answer.
      expect(href).toBe(`/admin/updates/${slug}/new?response=${id}`);
      const edit = await agent.get(`/admin/responses/${id}/edit`).expect(200);
      expect(unescapeHtml(edit.text)).toContain(`class="button button--secondary tell-signers" href="${href}"`);

      const composer = (await agent.get(href).expect(200)).text;
      expect(field(composer, 'subjectEn')).toBe(`${germany} has answered`);
      expect(field(composer, 'bodyEn')).toBe(
        [
          `${germany} answered on 30 November 2026 (by letter):`,
          '> We thank the signers.\n>\n> The delegation <script>alert(1)</script> will raise it in Council.',
          '[Read the full response](https://example.org/answer?id=1&x=2)',
        ].join('\n\n'),
      );
      expect(field(composer, 'subjectFr')).toBe(`${germany} a répondu`);
      // The answer is quoted as it was written, in the French text too.
      expect(field(composer, 'bodyFr')).toBe(
        [
          `${germany} a répondu le 30 novembre 2026 (par lettre) :`,
          '> We thank the signers.\n>\n> The delegation <script>alert(1)</script> will raise it in Council.',
          '[Lire la réponse complète](https://example.org/answer?id=1&x=2)',
        ].join('\n\n'),
      );
      expect(composer).not.toContain('<script>alert(1)');
      expect(composer).toMatch(/value="DE"[^>]*checked/);

      // The French draft is a valid French update: previewed as it stands, with no message.
      const preview = await agent
        .post(`/admin/updates/${slug}/preview`)
        .type('form')
        .send({
          _csrf: await consoleToken(agent, href),
          key: 'k'.repeat(20),
          subjectEn: field(composer, 'subjectEn'),
          bodyEn: field(composer, 'bodyEn'),
          subjectFr: field(composer, 'subjectFr'),
          bodyFr: field(composer, 'bodyFr'),
          countries: 'DE',
        })
        .expect(200);
      expect(preview.text).toContain('a répondu le 30 novembre 2026 (par lettre) :');
      expect(preview.text).not.toContain('field-error');
    });

    it('links to the delegation’s page in the draft when the answer has no link of its own, in both languages', async () => {
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ link: '', channel: 'meeting' }))
        .expect(303);
      const { id } = (await t.services.store.first(sql<{ id: number }>`SELECT id FROM delegation_responses`))!;
      const composer = (await agent.get(`/admin/updates/${slug}/new?response=${id}`).expect(200)).text;
      expect(field(composer, 'bodyEn')).toContain('(in a meeting):');
      expect(field(composer, 'bodyEn')).toContain(
        '[See what was delivered to the delegation and what it answered](http://localhost:3000/delegations/de)',
      );
      expect(field(composer, 'bodyFr')).toContain('(lors d’une rencontre) :');
      expect(field(composer, 'bodyFr')).toContain(
        '[Voir ce qui a été remis à la délégation et ce qu’elle a répondu](http://localhost:3000/delegations/de)',
      );
    });

    it('opens a blank composer for an answer it does not know, or one about another petition', async () => {
      await agent.post('/admin/responses').type('form').send(form()).expect(303);
      const { id } = (await t.services.store.first(sql<{ id: number }>`SELECT id FROM delegation_responses`))!;
      for (const path of [
        `/admin/updates/${slug}/new?response=${id + 100}`,
        `/admin/updates/${slug}/new?response=x${id}`,
        `/admin/updates/protect-civil-society/new?response=${id}`,
      ]) {
        const composer = (await agent.get(path).expect(200)).text;
        expect([path, field(composer, 'subjectEn'), field(composer, 'bodyFr')]).toEqual([path, '', '']);
        expect(composer).not.toMatch(/value="DE"[^>]*checked/);
      }
    });
  });

  describe('the public pages', () => {
    it('shows public responses on the petition and the demand page, escaped, in English and French', async () => {
      await agent.post('/admin/responses').type('form').send(form()).expect(303);
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ about: `demand:${demandSlug}`, receivedOn: '2026-10-02', channel: 'public_statement', link: '' }))
        .expect(303);
      // Kept in the console only.
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ body: 'Confidential note', isPublic: '' }))
        .expect(303);

      const page = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(page.text).toContain('<h2 id="responses-heading">Responses</h2>');
      expect(responseItems(page.text)).toEqual([
        `${germany} (Germany) 30 November 2026 · By letter We thank the signers. The delegation &lt;script&gt;alert(1)&lt;/script&gt; will raise it in Council. Read the response where it was published`,
        `${germany} (Germany) 2 October 2026 · Public statement We thank the signers. The delegation &lt;script&gt;alert(1)&lt;/script&gt; will raise it in Council.`,
      ]);
      expect(page.text).not.toContain('<script>alert(1)');
      expect(page.text).not.toContain('Confidential note');
      expect(page.text).toContain(`<a href="/delegations/de">${germany}</a>`);
      expect(page.text).toContain(
        'href="https://example.org/answer?id&#x3D;1&amp;x&#x3D;2" rel="nofollow noopener noreferrer"',
      );
      expect(page.text).toContain('<p>We thank the signers.</p>');

      const fr = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      expect(fr.text).toContain('<h2 id="responses-heading">Réponses</h2>');
      expect(responseItems(fr.text).map((r) => r.slice(germany.length))).toEqual([
        expect.stringMatching(/^ \(Allemagne\) 30 novembre 2026 · Par lettre /),
        expect.stringMatching(/^ \(Allemagne\) 2 octobre 2026 · Déclaration publique /),
      ]);

      const demand = await t.agent().get(`/demands/${demandSlug}`).expect(200);
      expect(demand.headers['cache-control']).toMatch(/^public, max-age=/);
      expect(responseItems(demand.text)).toEqual(responseItems(page.text));
      const demandFr = await t.agent().get(`/demands/${demandSlug}?lang=fr`).expect(200);
      expect(responseItems(demandFr.text)).toEqual(responseItems(fr.text));

      // Another petition, another demand: none of these.
      const other = await t.agent().get('/petitions/halt-unlawful-arms-transfers').expect(200);
      expect(responseItems(other.text)).toEqual([]);
      expect(other.text).toContain('No delegation has answered yet.');
    });

    it('shows a demand’s responses on its page when it has no petition', async () => {
      await agent
        .post('/admin/responses')
        .type('form')
        .send(form({ about: `demand:${demandSlug}`, body: 'About the demand alone' }))
        .expect(303);
      await t.services.store.run(sql`UPDATE petitions SET demand_id = NULL WHERE slug = ${slug}`);
      const demand = await t.agent().get(`/demands/${demandSlug}`).expect(200);
      expect(responseItems(demand.text)).toEqual([expect.stringContaining('About the demand alone')]);
    });

    it('shows a response on the prepared petition page at once after a save, and a deletion too', async () => {
      const before = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(responseItems(before.text)).toEqual([]);
      await t.agent().get(`/petitions/${slug}`).set('If-None-Match', before.headers.etag!).expect(304);

      await agent.post('/admin/responses').type('form').send(form()).expect(303);
      const after = await t.agent().get(`/petitions/${slug}`).set('If-None-Match', before.headers.etag!).expect(200);
      expect(responseItems(after.text)).toHaveLength(1);
      expect(after.headers.etag).not.toBe(before.headers.etag);

      const id = (await t.services.responses.list('en'))[0]!.id;
      await agent.post(`/admin/responses/${id}/delete`).type('form').send({ _csrf: token }).expect(303);
      expect(responseItems((await t.agent().get(`/petitions/${slug}`).expect(200)).text)).toEqual([]);
    });

    it('shows a response recorded by another process within COUNT_REFRESH_SECONDS', async () => {
      await t.agent().get(`/petitions/${slug}`).expect(200); // this process keeps the page
      // Another process: its own service on the same database, which cannot clear this one's pages.
      const elsewhere = createResponses({ store: t.services.store, clock: () => now });
      const saved = await elsewhere.save(
        undefined,
        {
          target: String(germanyId),
          about: `petition:${slug}`,
          receivedOn: '2026-11-30',
          channel: 'email',
          body: 'Answered elsewhere',
          link: '',
          isPublic: true,
        },
        null,
        'en',
      );
      expect(saved.ok).toBe(true);
      now += t.services.config.countRefreshSeconds * 1000 - 1;
      expect((await t.agent().get(`/petitions/${slug}`).expect(200)).text).not.toContain('Answered elsewhere');
      now += 1;
      expect((await t.agent().get(`/petitions/${slug}`).expect(200)).text).toContain('Answered elsewhere');
    });
  });
});
