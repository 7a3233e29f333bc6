import crypto from 'node:crypto';
import { createAccount, consoleToken, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { unescapeHtml } from '../helpers/letters';
import { addPostLetterTo, fakePdf } from '../helpers/packs';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const hour = 3600_000;

describe('the console’s hand-in packs page', () => {
  let t: TestApp;
  let now = Date.UTC(2026, 11, 1, 9);
  afterEach(() => t?.close());

  async function setUp() {
    now = Date.UTC(2026, 11, 1, 9);
    // server/packs/packPdf.ts is another change's: a fake renderer prints the document as text.
    t = await createTestApp({ clock: () => now, renderPackPdf: fakePdf });
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'Gerda Müller', country: 'DE', postcode: '10115 Berlin' },
        { name: 'Ömer Yılmaz', country: 'DE' },
      ],
      now,
    );
    await addPostLetterTo(t.services.store, {
      demand: 'progressive-taxation',
      country: 'DE',
      name: 'Jana',
      email: 'jana@example.org',
      confirmedAt: now,
    });
    await t.services.delivery.plan(true);
    const [pack] = await t.services.packs.list();
    return pack!;
  }

  async function organiser(role: 'organiser' | 'viewer' = 'organiser') {
    await createAccount(t.services, `${role}@example.org`, role);
    const agent = t.agent();
    await login(agent, `${role}@example.org`);
    return agent;
  }

  const audits = async () =>
    (
      await t.services.store.all(
        t.services.store.qb.selectFrom('audit_log').select(['action', 'subject']).where('action', 'like', 'pack.%'),
      )
    ).map((a) => `${a.action} ${a.subject}`);

  it('lists the packs due, downloads them, re-renders a bad record with its values, records and undoes', async () => {
    const pack = await setUp();
    const agent = await organiser();
    const page = await agent.get('/admin/packs').expect(200);
    expect(page.text).toContain('Hand-in packs');
    expect(page.text).toContain('Permanent Delegation of the Federal Republic of Germany to NATO');
    // The petition by its title, not its slug.
    expect(page.text).toContain('<td>NATO governments: fund defence fairly, not through austerity</td>');
    expect(page.text).not.toContain(`<td>${slug}</td>`);
    expect((await agent.get('/admin/packs?lang=fr')).text).toContain(
      '<td>Gouvernements de l&#x27;OTAN : financez la défense équitablement, sans austérité</td>',
    );
    await agent.get('/admin/packs?lang=en'); // the console keeps the language chosen
    expect(page.text).toContain(`href="/admin/packs/${pack.id}/pdf"`);
    expect(page.text).toContain(`action="/admin/packs/${pack.id}/record"`);
    // The dashboard calls it what it is, and leads to this page.
    const dashboard = await agent.get(`/admin?petition=${slug}`).expect(200);
    expect(dashboard.text).toContain('Latest digests and hand-in packs for this petition');
    expect(dashboard.text).toContain('<a href="/admin/packs">Due to be handed in</a>');

    const csv = await agent.get(`/admin/packs/${pack.id}/csv`).expect(200);
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="pack-${slug}-de-${pack.id}.csv"`);
    expect(csv.text).toContain('Ömer Yılmaz');
    const sha = crypto.createHash('sha256').update(csv.text).digest('hex');
    const pdf = await agent
      .get(`/admin/packs/${pack.id}/pdf`)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="pack-${slug}-de-${pack.id}.pdf"`);
    const text = (pdf.body as Buffer).toString('utf8');
    expect(text).toContain('signer: Gerda Müller | 10115 Berlin | Germany');
    expect(text).toContain(sha);
    expect(text).toContain('letter: Jana');

    // A day in the future, a bad how, a two-line reference: each field says what is wrong; values stay.
    const _csrf = await consoleToken(agent, '/admin/packs');
    const bad = await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-12-02', how: 'pigeon', reference: 'RR1\nRR2', note: 'Left at the desk' })
      .expect(400);
    const html = unescapeHtml(bad.text);
    expect(html).toContain('The day cannot be in the future');
    expect(html).toContain('Choose how the pack went');
    expect(html).toContain('The reference must be one line');
    expect(bad.text).toContain(`id="field-date-${pack.id}" name="date" type="date" value="2026-12-02"`);
    expect(bad.text).toContain('Left at the desk</textarea>');
    expect(bad.text).toContain(`href="#field-date-${pack.id}"`);
    const missing = await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '', how: 'post' })
      .expect(400);
    expect(missing.text).toContain('Enter the day the pack was handed in or posted');
    expect((await t.services.packs.find(pack.id))!.state).toBe('queued');

    const ok = await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-11-30', how: 'courier', reference: 'DHL 123', note: '' })
      .expect(303);
    expect(ok.headers.location).toBe('/admin/packs?done=recorded-courier');
    const again = await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-11-30', how: 'courier' })
      .expect(303);
    expect(again.headers.location).toBe('/admin/packs?done=already');
    const recorded = await agent.get(ok.headers.location!).expect(200);
    expect(recorded.text).toContain('The pack is recorded as sent by courier.'); // as it went, not "handed in"
    expect(recorded.text).not.toContain('recorded as handed in');
    expect(recorded.text).toContain('30 November 2026');
    expect(recorded.text).toContain('sent by courier');
    expect(recorded.text).toContain('DHL 123');
    expect(recorded.text).toContain(sha.slice(0, 12));
    expect(recorded.text).toContain(`action="/admin/packs/${pack.id}/undo"`);
    expect(recorded.text).toContain('<th scope="col">Reference</th>'); // a column, not the form's "(optional)"
    expect((await agent.get(`/admin?petition=${slug}`)).text).toContain('<td>Handed in or posted</td>');

    await agent.post(`/admin/packs/${pack.id}/undo`).type('form').send({ _csrf }).expect(303);
    expect((await t.services.packs.find(pack.id))!.state).toBe('queued');
    await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-12-01', how: 'handed-in' })
      .expect(303);
    now += 25 * hour;
    const late = await agent.get('/admin/packs').expect(200);
    expect(late.text).not.toContain(`action="/admin/packs/${pack.id}/undo"`);
    const refused = await agent.post(`/admin/packs/${pack.id}/undo`).type('form').send({ _csrf }).expect(303);
    expect(refused.headers.location).toBe('/admin/packs?done=tooLate');
    expect((await agent.get('/admin/packs?done=tooLate')).text).toContain('can no longer be taken back');

    expect(await audits()).toEqual([
      `pack.download pack ${pack.id}`,
      `pack.download pack ${pack.id}`,
      `pack.record pack ${pack.id}`,
      `pack.undo pack ${pack.id}`,
      `pack.record pack ${pack.id}`,
      `pack.undo.refused pack ${pack.id}`,
    ]);
  });

  it('says how each pack went, in English and in French', async () => {
    const pack = await setUp();
    const agent = await organiser();
    const _csrf = await consoleToken(agent, '/admin/packs');
    const messages = {
      'handed-in': ['The pack is recorded as handed in.', 'Le dossier est enregistré comme remis en main propre.'],
      post: ['The pack is recorded as posted.', 'Le dossier est enregistré comme envoyé par la poste.'],
      courier: ['The pack is recorded as sent by courier.', 'Le dossier est enregistré comme envoyé par coursier.'],
    };
    for (const [how, [english, french]] of Object.entries(messages)) {
      const res = await agent
        .post(`/admin/packs/${pack.id}/record`)
        .type('form')
        .send({ _csrf, date: '2026-11-30', how })
        .expect(303);
      expect(res.headers.location).toBe(`/admin/packs?done=recorded-${how}`);
      expect((await agent.get(`${res.headers.location!}&lang=en`)).text).toContain(english);
      expect(unescapeHtml((await agent.get(`${res.headers.location!}&lang=fr`)).text)).toContain(french);
      await agent.post(`/admin/packs/${pack.id}/undo`).type('form').send({ _csrf }).expect(303);
    }
  });

  it('takes today as the day in Brussels: just after midnight there, its date is not in the future', async () => {
    const pack = await setUp();
    const agent = await organiser();
    const _csrf = await consoleToken(agent, '/admin/packs');
    now = Date.UTC(2026, 10, 30, 23, 30); // 00:30 on 1 December in Brussels, still 30 November in UTC
    await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-12-02', how: 'handed-in' })
      .expect(400);
    await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-12-01', how: 'handed-in' })
      .expect(303);
    expect((await t.services.packs.find(pack.id))!.state).toBe('sent');
  });

  it('shows viewers the list only: no downloads, no record, no undo', async () => {
    const pack = await setUp();
    const agent = await organiser('viewer');
    const page = await agent.get('/admin/packs').expect(200);
    expect(page.text).toContain('Permanent Delegation of the Federal Republic of Germany to NATO');
    expect(page.text).not.toContain(`/admin/packs/${pack.id}/csv`);
    expect(page.text).not.toContain(`action="/admin/packs/${pack.id}/record"`);
    await agent.get(`/admin/packs/${pack.id}/csv`).expect(403);
    await agent.get(`/admin/packs/${pack.id}/pdf`).expect(403);
    const _csrf = await consoleToken(agent, '/admin/packs');
    await agent
      .post(`/admin/packs/${pack.id}/record`)
      .type('form')
      .send({ _csrf, date: '2026-11-30', how: 'post' })
      .expect(403);
    expect((await t.services.packs.find(pack.id))!.state).toBe('queued');
  });

  it('says so in words when this build cannot make PDFs', async () => {
    await setUp();
    const agent = await organiser();
    const page = await agent.get('/admin/packs?done=pdfUnavailable').expect(200);
    expect(unescapeHtml(page.text)).toContain('The PDF of a pack cannot be made on this server yet');
    const fr = await agent.get('/admin/packs?done=pdfUnavailable&lang=fr').expect(200);
    expect(unescapeHtml(fr.text)).toContain("Le PDF d'un dossier ne peut pas encore être produit");
  });

  it('answers 404 for a pack that is not one', async () => {
    await setUp();
    const agent = await organiser();
    await agent.get('/admin/packs/999999/csv').expect(404);
    await agent.get('/admin/packs/abc/pdf').expect(404);
  });
});
