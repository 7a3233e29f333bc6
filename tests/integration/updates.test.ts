import type { ParsedMail } from 'mailparser';
import { sql } from 'kysely';
import { UPDATE_CHUNK } from '../../server/updates/updatesService';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const header = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ');
const to = (mail: ParsedMail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)!.text;

describe('campaign updates', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { UPDATES_PER_MINUTE: '600' } });
    await createAccount(t.services, 'org@example.org', 'organiser');
  });
  afterEach(async () => t.close());

  async function organiser() {
    const agent = t.agent();
    await login(agent, 'org@example.org');
    return { agent, token: await consoleToken(agent, `/admin/updates/${slug}/new`) };
  }
  const form = (token: string, over: Record<string, string | string[]> = {}) => ({
    _csrf: token,
    key: 'a-key-for-this-form-0001',
    subjectEn: 'We handed it in',
    bodyEn: 'Thank you, **{{name}}**! <b>raw</b>\n\nRead [the report](https://example.org/report).',
    subjectFr: 'Nous l’avons remise',
    bodyFr: 'Merci ! Lisez [le rapport](https://example.org/rapport).',
    ...over,
  });

  it('goes to each opted-in signer in their language, with one-click unsubscribe, and to no one else', async () => {
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Anna', country: 'DE', email: 'anna@example.org', updates: true },
      { name: 'Bernard', country: 'FR', email: 'bernard@example.org', updates: true, locale: 'fr' },
      { name: 'Carl', country: 'DE', email: 'carl@example.org', updates: false },
      { name: 'Dora', country: 'IT', email: 'dora@example.org', updates: true },
    ]);
    // Dora unsubscribed; Erik's signature was anonymised.
    await t.services.store.run(
      sql`UPDATE signatures SET updates_opt_in = 0, unsubscribed_at = 1 WHERE email = 'dora@example.org'`,
    );
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Erik', country: 'SE', email: 'erik@example.org', updates: true },
    ]);
    await t.services.store.run(sql`UPDATE signatures SET anonymised_at = 1 WHERE email = 'erik@example.org'`);

    const { agent, token } = await organiser();
    const preview = await agent.post(`/admin/updates/${slug}/preview`).type('form').send(form(token)).expect(200);
    expect(preview.text).toContain('It goes to 2 signers.');
    expect(preview.text).toContain('&lt;b&gt;raw&lt;/b&gt;'); // HTML in the Markdown is shown as text
    expect(preview.text).toContain('<a href="https://example.org/report">the report</a>');

    const sent = await agent.post(`/admin/updates/${slug}/send`).type('form').send(form(token)).expect(303);
    expect(sent.headers.location).toMatch(new RegExp(`^/admin/updates/${slug}/\\d+$`));
    await t.services.sender.drain();
    const mails = await t.smtp!.waitFor(2);
    expect(mails.map(to).sort()).toEqual(['anna@example.org', 'bernard@example.org']);
    const anna = mails.find((m) => to(m) === 'anna@example.org')!;
    const bernard = mails.find((m) => to(m) === 'bernard@example.org')!;
    expect(anna.subject).toBe('We handed it in');
    expect(anna.text).toContain('Read the report (https://example.org/report).');
    expect(anna.text).toContain('because you signed the petition');
    expect(bernard.subject).toBe('Nous l’avons remise');
    expect(bernard.text).toContain('Lisez le rapport (https://example.org/rapport).');
    expect(bernard.text).toContain('parce que vous avez signé la pétition');
    for (const mail of mails) {
      expect(header(mail, 'list-unsubscribe')).toMatch(
        /^List-Unsubscribe: ?<http:\/\/localhost:3000\/unsubscribe\/\d+\.[\w-]+>$/,
      );
      expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    }

    // The update's page shows where it stands; the audit log says who sent what.
    const page = await agent.get(sent.headers.location!).expect(200);
    expect(page.text).toMatch(/id="progress-sent">2</);
    const audit = await t.services.store.all(
      sql<{ action: string }>`SELECT action FROM audit_log WHERE action LIKE 'update.%'`,
    );
    expect(audit.map((a) => a.action)).toEqual(['update.send']);
  });

  it('sends English to a French signer when no French version is written', async () => {
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Bernard', country: 'FR', email: 'bernard@example.org', updates: true, locale: 'fr' },
    ]);
    const { agent, token } = await organiser();
    await agent
      .post(`/admin/updates/${slug}/send`)
      .type('form')
      .send(form(token, { subjectFr: '', bodyFr: '' }))
      .expect(303);
    await t.services.sender.drain();
    expect((await t.smtp!.waitFor(1))[0]!.subject).toBe('We handed it in');
  });

  it('never sends twice for a double click or a retried POST (the form’s key)', async () => {
    await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Anna', country: 'DE', updates: true }]);
    const { agent, token } = await organiser();
    const first = await agent.post(`/admin/updates/${slug}/send`).type('form').send(form(token)).expect(303);
    const again = await agent.post(`/admin/updates/${slug}/send`).type('form').send(form(token)).expect(303);
    expect(again.headers.location).toBe(first.headers.location);
    await t.services.sender.drain();
    const rows = await t.services.store.all(sql`SELECT id FROM outbox WHERE kind = 'campaign_update'`);
    expect(rows).toHaveLength(1);
  });

  it('sends a test to the organiser alone, in each written language', async () => {
    await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Anna', country: 'DE', updates: true }]);
    const { agent, token } = await organiser();
    const res = await agent.post(`/admin/updates/${slug}/test`).type('form').send(form(token)).expect(200);
    expect(res.text).toContain('A test was sent to org@example.org');
    await t.services.sender.drain();
    const mails = await t.smtp!.waitFor(2);
    expect(mails.map(to)).toEqual(['org@example.org', 'org@example.org']);
    expect(mails.map((m) => m.subject).sort()).toEqual(['Nous l’avons remise', 'We handed it in']);
    expect(mails[0]!.text).toMatch(/^Test: only you received this|^Test : vous seul/m);
    expect(await t.services.store.all(sql`SELECT id FROM campaign_updates`)).toEqual([]);
  });

  it('narrows the audience to chosen countries', async () => {
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Anna', country: 'DE', email: 'anna@example.org', updates: true },
      { name: 'Bernard', country: 'FR', email: 'bernard@example.org', updates: true },
    ]);
    const { agent, token } = await organiser();
    const preview = await agent
      .post(`/admin/updates/${slug}/preview`)
      .type('form')
      .send(form(token, { countries: ['FR'] }))
      .expect(200);
    expect(preview.text).toContain('It goes to 1 signer.');
    await agent
      .post(`/admin/updates/${slug}/send`)
      .type('form')
      .send(form(token, { countries: ['FR'] }))
      .expect(303);
    await t.services.sender.drain();
    expect((await t.smtp!.waitFor(1)).map(to)).toEqual(['bernard@example.org']);
  });

  it('keeps what was typed and says what is wrong, field by field', async () => {
    const { agent, token } = await organiser();
    const res = await agent
      .post(`/admin/updates/${slug}/send`)
      .type('form')
      .send(
        form(token, {
          subjectEn: '',
          bodyEn: 'See [this](javascript:alert(1))',
          subjectFr: 'Seulement l’objet',
          bodyFr: '',
        }),
      )
      .expect(400);
    expect(res.text).toContain('Enter a subject');
    expect(res.text).toContain('Links must start with http:// or https://');
    expect(res.text).toContain('Enter the French message, or leave both French fields empty');
    expect(res.text).toContain('See [this](javascript:alert(1))</textarea>');
    expect(res.text).toContain('value="Seulement l’objet"');
    expect(await t.services.store.all(sql`SELECT id FROM campaign_updates`)).toEqual([]);
  });

  it('a viewer may read updates but not send one', async () => {
    await createAccount(t.services, 'viewer@example.org', 'viewer');
    const agent = t.agent();
    await login(agent, 'viewer@example.org');
    await agent.get('/admin/updates').expect(200);
    await agent.get(`/admin/updates/${slug}/new`).expect(403);
  });
});

describe('a large update', () => {
  let t: TestApp;
  let now = Date.UTC(2026, 10, 30, 12);
  beforeAll(async () => {
    t = await createTestApp({ clock: () => now, env: { UPDATES_PER_MINUTE: '100' } });
  });
  afterAll(async () => t.close());

  it('is written in chunks, each row due so as to stay under UPDATES_PER_MINUTE, everyone once', async () => {
    const total = 2 * UPDATE_CHUNK + 150;
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      Array.from({ length: total }, (_, i) => ({ name: `Signer ${i}`, country: 'DE', updates: true })),
    );
    const petitionId = (await t.services.store.first(
      t.services.store.qb.selectFrom('petitions').select('id').where('slug', '=', slug),
    ))!.id;
    const draft = { petitionId, subjectEn: 'News', bodyEn: 'Hello', subjectFr: '', bodyFr: '', countries: [] };
    const started = now;
    const { id } = await t.services.updates.send(draft, 'large-update-key-000001', null);
    // The request wrote one chunk; the rest is left to the background writer.
    expect(await t.services.updates.byId(id)).toMatchObject({ state: 'writing', recipients: UPDATE_CHUNK });
    now += 5_000;
    expect(await t.services.updates.advance()).toBeGreaterThanOrEqual(2);
    expect(await t.services.updates.byId(id)).toMatchObject({ state: 'written', recipients: total });

    const rows = await t.services.store.all(
      sql<{ due: number; n: number }>`SELECT next_attempt_at AS due, count(*) AS n FROM outbox
       WHERE kind = 'campaign_update' GROUP BY next_attempt_at ORDER BY next_attempt_at`,
    );
    // 100 a minute: the first hundred at once, the next a minute later, and so on.
    expect(rows.map((r) => [Number(r.due) - started, Number(r.n)])).toEqual(
      Array.from({ length: Math.ceil(total / 100) }, (_, i) => [i * 60_000, Math.min(100, total - i * 100)]),
    );
    const distinct = await t.services.store.first(
      sql<{ n: number }>`SELECT count(DISTINCT recipient) AS n FROM outbox WHERE kind = 'campaign_update'`,
    );
    expect(Number(distinct!.n)).toBe(total);
    // Writing again changes nothing.
    expect(await t.services.updates.writeChunk(id)).toBe(false);
    expect((await t.services.updates.progress(id)).queued).toBe(total);
  });
});
