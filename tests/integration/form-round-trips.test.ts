import { sql } from 'kysely';
import type TestAgent from 'supertest/lib/agent';
import { createAccount, login } from '../helpers/admin';
import { formBody, formFields } from '../helpers/forms';
import { createTestApp, type TestApp } from '../helpers/testApp';

// Paragraphs, a blank line, a line that starts with spaces on purpose, and a last line.
const body = 'First paragraph.\n\nSecond paragraph:\n  - an indented point\n\n\nLast line.';

describe('saving a form again and again changes nothing the person did not change', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterEach(() => t.close());

  async function organiser(): Promise<TestAgent> {
    await createAccount(t.services, 'org@example.org', 'organiser');
    const agent = t.agent();
    await login(agent, 'org@example.org');
    return agent;
  }

  /** Opens the edit page and presses Save without touching anything, as an organiser would. */
  async function saveUnchanged(agent: TestAgent, page: string, action: string) {
    const form = await agent.get(page).expect(200);
    const res = await agent
      .post(action)
      .type('form')
      .send(formBody(formFields(form.text, action)));
    expect(res.status).toBe(303);
  }

  it('keeps a petition’s texts byte for byte over five saves in the console', async () => {
    const agent = await organiser();
    const slug = 'fund-defence-fairly';
    const { store } = t.services;
    const text = async (lang: string) =>
      (await store.first(
        sql<{ body: string }>`SELECT body FROM petition_texts WHERE lang = ${lang}
          AND petition_id = (SELECT id FROM petitions WHERE slug = 'fund-defence-fairly')`,
      ))!.body;
    await store.run(
      sql`UPDATE petition_texts SET body = ${body} WHERE petition_id = (SELECT id FROM petitions WHERE slug = ${slug})`,
    );
    t.services.petitions.invalidate();
    for (let i = 0; i < 5; i++) await saveUnchanged(agent, `/admin/petitions/${slug}/edit`, `/admin/petitions/${slug}`);
    expect(await text('en')).toBe(body);
    expect(await text('fr')).toBe(body);
  });

  it('keeps a demand’s summaries byte for byte over five saves in the console', async () => {
    const agent = await organiser();
    const slug = 'progressive-taxation';
    const { store } = t.services;
    const summaries = async () =>
      (
        await store.all(
          sql<{ summary: string }>`SELECT summary FROM demand_texts
            WHERE demand_id = (SELECT id FROM demands WHERE slug = 'progressive-taxation') ORDER BY lang`,
        )
      ).map((r) => r.summary);
    await store.run(
      sql`UPDATE demand_texts SET summary = ${body} WHERE demand_id = (SELECT id FROM demands WHERE slug = ${slug})`,
    );
    for (let i = 0; i < 5; i++) await saveUnchanged(agent, `/admin/demands/${slug}/edit`, `/admin/demands/${slug}`);
    expect(await summaries()).toEqual([body, body]);
  });

  it('gives a letter writer their own words back unchanged from the preview’s “Change” button', async () => {
    const agent = t.agent();
    const slug = 'progressive-taxation';
    await agent.get(`/demands/${slug}/letters/new`).expect(200);
    const ownWords = 'My mother waited two years.\n\nShe still waits.\n  And so do others.';
    let fields: Array<[string, string]> = [
      ['country', 'IT'],
      ['name', 'Ada Lovelace'],
      ['email', 'ada@example.org'],
      ['town', 'London'],
      ['ownWords', ownWords],
      ['lang', 'auto'],
    ];
    for (let i = 0; i < 3; i++) {
      const preview = await agent.post(`/demands/${slug}/letters/preview`).type('form').send(formBody(fields));
      expect(preview.status).toBe(200);
      // “Change my details”: the preview's hidden fields, posted back to the first form.
      const back = formFields(preview.text, `/demands/${slug}/letters`).filter(([name]) => name !== 'body');
      expect(back).toContainEqual(['ownWords', ownWords]);
      const form = await agent.post(`/demands/${slug}/letters/new`).type('form').send(formBody(back)).expect(200);
      fields = formFields(form.text, `/demands/${slug}/letters/preview`);
      expect(fields).toContainEqual(['ownWords', ownWords]);
    }
  });
});
