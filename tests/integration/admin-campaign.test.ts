import { parse } from 'csv-parse/sync';
import { sql, type RawBuilder } from 'kysely';
import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { createTestApp, type TestApp } from '../helpers/testApp';

type Row = Record<string, string>;

describe('running the campaign from the console', () => {
  let t: TestApp;
  let organiser: TestAgent;
  let token: string;

  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'org@example.org', 'organiser');
    organiser = t.agent();
    await login(organiser, 'org@example.org');
    token = await consoleToken(organiser);
  });
  afterEach(() => t.close());

  const audited = (action: string) =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('audit_log')
        .select(['subject', 'details'])
        .where('action', '=', action)
        .orderBy('id'),
    );
  /** The first column of the first row, as better-sqlite3's pluck().get() answered it. */
  const scalar = async (query: RawBuilder<Record<string, unknown>>) => {
    const row = await t.services.store.first(query);
    return row && Object.values(row)[0];
  };

  async function addTarget(fields: Record<string, string>) {
    const res = await organiser
      .post('/admin/targets')
      .type('form')
      .send({ _csrf: token, kind: 'minister', languages: 'fr, nl', ...fields });
    expect(res.status).toBe(303);
    return (await scalar(sql`SELECT max(id) AS id FROM targets`)) as number;
  }

  describe('petitions', () => {
    const valid = {
      slug: 'stop-the-drones',
      goal: '5000',
      titleEn: 'Stop the drones',
      bodyEn: 'First paragraph.\n\nSecond paragraph.',
      titleFr: 'Arrêtez les drones',
      bodyFr: 'Premier paragraphe.',
    };

    it('re-renders the form with instructions and the values typed when something is missing', async () => {
      const res = await organiser
        .post('/admin/petitions')
        .type('form')
        .send({ _csrf: token, slug: 'Bad Slug!', goal: '0', titleEn: '', bodyEn: 'Text kept', titleFr: 'Seul' });
      expect(res.status).toBe(400);
      for (const message of [
        'Enter an address of lower-case letters, digits and single hyphens',
        'Enter a goal as a whole number from 1 to 100,000,000',
        'Enter a title',
        'Enter both the French title and the French text, or neither',
      ]) {
        expect(res.text).toContain(message);
      }
      expect(res.text).toContain('Text kept</textarea>');
      const taken = await organiser
        .post('/admin/petitions')
        .type('form')
        .send({ _csrf: token, ...valid, slug: 'fund-defence-fairly' });
      expect(taken.text).toContain('Enter an address that no other petition uses');
    });

    it('creates a petition closed, with its goal, texts and targets; opening it lets people sign', async () => {
      const minister = await addTarget({ country: 'BE', name: 'Minister of Defence of Belgium' });
      const res = await organiser
        .post('/admin/petitions')
        .type('form')
        .send({ _csrf: token, ...valid, targets: String(minister), state: 'open', id: '1' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin/petitions/stop-the-drones/edit?notice=petitionCreated');
      const edit = await organiser.get(res.headers.location!).expect(200);
      expect(edit.text).toContain('The petition has been created. It stays closed until you open it.');
      expect(edit.text).toMatch(
        new RegExp(`id="target-${minister}" name="targets" type="checkbox" value="${minister}" checked`),
      );

      // Posting state=open with the form did nothing: a new petition starts closed.
      let page = await t.agent().get('/petitions/stop-the-drones').expect(200);
      expect(page.text).toContain('This petition is closed');
      expect(page.text).toContain('<h1>Stop the drones</h1>');
      expect(page.text).toContain('<p>First paragraph.</p>');
      expect(page.text).toContain('Goal: 5,000 signatures');
      expect(page.text).toContain('<li>Minister of Defence of Belgium</li>');
      const fr = await t.agent().get('/petitions/stop-the-drones?lang=fr').expect(200);
      expect(fr.text).toContain('<h1>Arrêtez les drones</h1>');

      const open = await organiser
        .post('/admin/petitions/stop-the-drones/state')
        .type('form')
        .send({ _csrf: token, state: 'open' });
      expect(open.headers.location).toBe('/admin/petitions/stop-the-drones/edit?notice=petitionOpened');
      page = await t.agent().get('/petitions/stop-the-drones').expect(200);
      expect(page.text).toContain('Sign this petition');
      expect((await t.agent().get('/petitions/stop-the-drones.json').expect(200)).body).toMatchObject({
        state: 'open',
        count: 0,
        goal: 5000,
      });
      expect((await audited('petition.create'))[0]!.subject).toBe('stop-the-drones');
      expect((await audited('petition.open'))[0]!.subject).toBe('stop-the-drones');
    });

    it('edits the goal and texts of a petition, and closing it stops signing', async () => {
      const slug = 'fund-defence-fairly';
      const form = await organiser.get(`/admin/petitions/${slug}/edit`).expect(200);
      expect(form.text).toContain('name="goal" type="text" value="15000"');
      expect((await t.agent().get(`/petitions/${slug}`).expect(200)).text).toContain('Goal: 15,000 signatures');
      const res = await organiser.post(`/admin/petitions/${slug}`).type('form').send({
        _csrf: token,
        goal: '25000',
        titleEn: 'Fund defence fairly (edited)',
        bodyEn: 'New text.',
        slug: 'hijack',
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/admin/petitions/${slug}/edit?notice=petitionSaved`);
      const page = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(page.text).toContain('Fund defence fairly (edited)');
      expect(page.text).toContain('Goal: 25,000 signatures');
      // No French text any more: French readers get the English one.
      const fr = await t.agent().get(`/petitions/${slug}?lang=fr`).expect(200);
      expect(fr.text).toContain('Fund defence fairly (edited)');
      expect(await scalar(sql`SELECT count(*) AS n FROM petitions WHERE slug = 'hijack'`)).toBe(0);

      await organiser
        .post(`/admin/petitions/${slug}/state`)
        .type('form')
        .send({ _csrf: token, state: 'closed', confirm: 'yes' })
        .expect(303);
      const closed = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(closed.text).toContain('This petition closed on');
      const agent = t.agent();
      const refused = await agent
        .post(`/petitions/${slug}/signatures`)
        .type('form')
        .send({ name: 'Late Comer', email: 'late@example.org', country: 'FR' });
      expect(refused.status).toBe(409);
      expect((await t.services.petitions.findPetition(slug, 'en'))!.state).toBe('closed');
      expect((await audited('petition.update'))[0]).toMatchObject({ subject: slug });
    });

    it('edits a demand’s texts in both languages, shown on the home page', async () => {
      const form = await organiser.get('/admin/demands/progressive-taxation/edit').expect(200);
      expect(form.text).toContain('name="titleFr"');
      const blank = await organiser
        .post('/admin/demands/progressive-taxation')
        .type('form')
        .send({ _csrf: token, titleEn: 'X', summaryEn: '', titleFr: 'Y', summaryFr: 'Z' });
      expect(blank.status).toBe(400);
      expect(blank.text).toContain('Enter a summary');
      const res = await organiser.post('/admin/demands/progressive-taxation').type('form').send({
        _csrf: token,
        titleEn: 'Tax fairly, not the poorest',
        summaryEn: 'A new English summary.',
        titleFr: 'Une fiscalité juste',
        summaryFr: 'Un nouveau résumé.',
      });
      expect(res.status).toBe(303);
      expect((await t.agent().get('/').expect(200)).text).toContain('Tax fairly, not the poorest');
      const fr = await t.agent().get('/?lang=fr').expect(200);
      expect(fr.text).toContain('Une fiscalité juste');
      expect(fr.text).toContain('Un nouveau résumé.');
      expect(await audited('demand.update')).toHaveLength(1);
    });
  });

  describe('targets', () => {
    it('lists the NATO countries whose delegation has no address, and drops one once it gets one', async () => {
      const before = await organiser.get('/admin/targets').expect(200);
      const list = (html: string) =>
        /<ul class="country-list" id="without-address">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
      expect(list(before.text)).toContain('Albania (AL)');
      const count = (html: string) => (list(html).match(/<li>/g) ?? []).length;
      const albania = (await scalar(
        sql`SELECT id FROM targets WHERE country_code = 'AL' AND is_default = 1`,
      )) as number;
      const form = await organiser.get(`/admin/targets/${albania}/edit`).expect(200);
      expect(form.text).toContain('value="Permanent Representation of Albania to NATO"');
      const bad = await organiser.post(`/admin/targets/${albania}`).type('form').send({
        _csrf: token,
        kind: 'nato_delegation',
        country: 'AL',
        name: 'X',
        languages: 'sq',
        email: 'not an address\r\nBcc: x@y',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Enter an email address in the correct format');
      await organiser
        .post(`/admin/targets/${albania}`)
        .type('form')
        .send({
          _csrf: token,
          kind: 'nato_delegation',
          country: 'AL',
          name: 'Permanent Representation of Albania to NATO',
          languages: 'sq, en',
          email: 'nato.delegation@example.al',
        })
        .expect(303);
      const after = await organiser.get('/admin/targets').expect(200);
      expect(list(after.text)).not.toContain('(AL)');
      expect(count(after.text)).toBe(count(before.text) - 1);
      expect(after.text).toContain('nato.delegation@example.al');
      const [entry] = await audited('target.update');
      expect(entry!.subject).toBe('Permanent Representation of Albania to NATO');
      expect(JSON.parse(entry!.details)).toMatchObject({
        email: { from: '', to: 'nato.delegation@example.al' },
        languages: { to: 'sq, en' },
      });
    });

    it('exports targets as CSV and imports it back: unchanged rows change nothing, edited and new rows apply', async () => {
      await addTarget({ country: 'FR', name: '-Ministre des Armées', email: 'cabinet@example.fr' });
      const exported = await organiser.get('/admin/targets.csv').buffer(true).expect(200);
      expect(exported.headers['content-disposition']).toMatch(
        /^attachment; filename="targets-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      expect(exported.headers['cache-control']).toBe('no-store');
      const rows = parse(exported.text, { bom: true, columns: true }) as Row[];
      expect(rows.length).toBeGreaterThanOrEqual(33);
      const minister = rows.find((r) => r.country === 'FR' && r.kind === 'minister')!;
      expect(minister.name).toBe("'-Ministre des Armées"); // formula-safe in the file

      const upload = (csv: string) =>
        organiser
          .post('/admin/targets/import')
          .field('_csrf', token)
          .attach('file', Buffer.from(csv, 'utf8'), 'targets.csv');

      const same = await upload(exported.text);
      expect(same.status).toBe(303);
      expect(same.headers.location).toBe('/admin/targets?notice=targetsImported&n=0');
      expect(await scalar(sql`SELECT name FROM targets WHERE country_code = 'FR' AND kind = 'minister'`)).toBe(
        '-Ministre des Armées',
      );

      const belgium = rows.find((r) => r.country === 'BE' && r.default === 'yes')!;
      const edited = exported.text.replace(
        new RegExp(`^${belgium.id},BE,nato_delegation,([^\\r]*?),,`, 'm'),
        `${belgium.id},BE,nato_delegation,$1,delegation@example.be,`,
      );
      expect(edited).not.toBe(exported.text);
      const withNew = `${edited},DE,parliamentary_assembly,"Deutsche Delegation, NATO PV",de,pa@example.de,https://example.de,\r\n`;
      const applied = await upload(withNew);
      expect(applied.headers.location).toBe('/admin/targets?notice=targetsImported&n=2');
      expect(await scalar(sql`SELECT email FROM targets WHERE id = ${Number(belgium.id)}`)).toBe(
        'delegation@example.be',
      );
      expect(
        await t.services.store.first(sql`SELECT name, email FROM targets WHERE kind = 'parliamentary_assembly'`),
      ).toEqual({ name: 'Deutsche Delegation, NATO PV', email: 'pa@example.de' });
      expect(JSON.parse((await audited('targets.import')).at(-1)!.details)).toEqual({ created: 1, updated: 1 });
    });

    it('imports nothing when any row is wrong, and says which line', async () => {
      const csv =
        'id,country,kind,name,languages,email,website\r\n,FR,minister,Good Row,fr,,\r\n,XX,king,,f r,bad,ftp://x\r\n';
      const res = await organiser
        .post('/admin/targets/import')
        .field('_csrf', token)
        .attach('file', Buffer.from(csv), 'x.csv');
      expect(res.status).toBe(400);
      expect(res.text).toContain('Nothing was imported');
      expect(res.text).toContain('Line 3 (country): Choose a country from the list');
      expect(res.text).toContain('Line 3 (email): Enter an email address in the correct format');
      expect(await scalar(sql`SELECT count(*) AS n FROM targets WHERE name = 'Good Row'`)).toBe(0);
      const header = await organiser
        .post('/admin/targets/import')
        .field('_csrf', token)
        .attach('file', Buffer.from('a,b\r\n1,2\r\n'), 'x.csv');
      expect(header.text).toContain('Check the first line');
    });

    it('refuses an upload without the CSRF token, and one that is too large', async () => {
      await organiser.post('/admin/targets/import').attach('file', Buffer.from('id,country\r\n'), 'x.csv').expect(403);
      const big = await organiser
        .post('/admin/targets/import')
        .field('_csrf', token)
        .attach('file', Buffer.alloc(600 * 1024, 'a'), 'x.csv');
      expect(big.status).toBe(413);
    });
  });
});
