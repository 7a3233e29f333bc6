import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { createTestApp, type TestApp } from '../helpers/testApp';

type Row = Record<string, string>;

describe('postal addresses and forced post in the targets console', () => {
  let t: TestApp;
  let organiser: TestAgent;
  let token: string;
  let germany: number;

  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'org@example.org', 'organiser');
    organiser = t.agent();
    await login(organiser, 'org@example.org');
    token = await consoleToken(organiser);
    germany = (await t.services.store.first(
      sql<{ id: number }>`SELECT id FROM targets WHERE country_code = 'DE' AND is_default = 1`,
    ))!.id;
  });
  afterEach(() => t.close());

  const target = (id: number) =>
    t.services.store.first(
      sql<{ email: string | null; postal: string | null; force: number }>`SELECT email,
         postal_address AS postal, force_post AS "force" FROM targets WHERE id = ${id}`,
    );
  const audited = (action: string) =>
    t.services.store.all(
      sql<{
        subject: string;
        details: string;
      }>`SELECT subject, details FROM audit_log WHERE action = ${action} ORDER BY id`,
    );
  /** The delivery column of a target's row in the list. */
  const channelOf = (html: string, name: string) => {
    const row = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!).find((r) => r.includes(name)) ?? '';
    return /<td class="channel channel--(\w+)">([\s\S]*?)<\/td>/.exec(row)?.slice(1);
  };
  const germanName = 'Permanent Delegation of the Federal Republic of Germany to NATO';
  const form = (over: Record<string, string>) => ({
    _csrf: token,
    kind: 'nato_delegation',
    country: 'DE',
    name: germanName,
    languages: 'de',
    website: 'https://nato.diplo.de',
    ...over,
  });

  it('shows the seeded address, saves one typed on several lines as comma-separated parts, and audits it', async () => {
    const edit = await organiser.get(`/admin/targets/${germany}/edit`).expect(200);
    expect(edit.text).toContain('<label for="field-postalAddress">Postal address</label>');
    expect(edit.text).toContain(
      `${germanName}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium</textarea>`,
    );
    expect(edit.text).toMatch(/<input id="field-forcePost" name="forcePost" type="checkbox" value="on"[^>]*>/);
    expect(edit.text).not.toMatch(/id="field-forcePost"[^>]*checked/);

    await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ postalAddress: `  ${germanName}\r\nNATO HQ, Bd Léopold III\n\n1110 Bruxelles \r\nBelgique ` }))
      .expect(303);
    expect(await target(germany)).toEqual({
      email: null,
      postal: `${germanName}, NATO HQ, Bd Léopold III, 1110 Bruxelles, Belgique`,
      force: 0,
    });
    const [entry] = await audited('target.update');
    expect(JSON.parse(entry!.details)).toEqual({
      postalAddress: {
        from: `${germanName}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium`,
        to: `${germanName}, NATO HQ, Bd Léopold III, 1110 Bruxelles, Belgique`,
      },
    });
  });

  it('lists each delegation’s channel: post without an email, email with one, post again when forced', async () => {
    const list = async () => (await organiser.get('/admin/targets').expect(200)).text;
    expect(channelOf(await list(), germanName)).toEqual(['post', 'by post']);

    await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ email: 'de@nato.example', postalAddress: 'NATO HQ, 1110 Brussels' }))
      .expect(303);
    expect(channelOf(await list(), germanName)).toEqual(['email', 'by email']);

    await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ email: 'de@nato.example', postalAddress: 'NATO HQ, 1110 Brussels', forcePost: 'on' }))
      .expect(303);
    expect(await target(germany)).toMatchObject({ email: 'de@nato.example', force: 1 });
    expect(channelOf(await list(), germanName)).toEqual(['post', 'by post']);
    const edit = await organiser.get(`/admin/targets/${germany}/edit`).expect(200);
    expect(edit.text).toMatch(/id="field-forcePost"[^>]*checked/);
    expect(JSON.parse((await audited('target.update')).at(-1)!.details)).toEqual({
      forcePost: { from: false, to: true },
    });
  });

  it('re-renders the form with the values typed when post is forced without an address, or the address is odd', async () => {
    const forced = await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ email: 'de@nato.example', postalAddress: ' , \n ', forcePost: 'on' }));
    expect(forced.status).toBe(400);
    expect(forced.text).toContain('Enter a postal address to deliver by post');
    expect(forced.text).toMatch(/id="field-forcePost"[^>]*checked/);
    expect(forced.text).toContain('value="de@nato.example"');
    const odd = await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ postalAddress: 'NATO HQ\u0007, Brussels' }));
    expect(odd.status).toBe(400);
    expect(odd.text).toContain('Enter a postal address without invisible control characters');
    const long = await organiser
      .post(`/admin/targets/${germany}`)
      .type('form')
      .send(form({ postalAddress: 'x'.repeat(501) }));
    expect(long.text).toContain('Enter a postal address of 500 characters or fewer');
    expect(await target(germany)).toMatchObject({ force: 0, email: null });
    expect(await audited('target.update')).toEqual([]);
  });

  describe('the addressee CSV', () => {
    const upload = (csv: string) =>
      organiser.post('/admin/targets/import').field('_csrf', token).attach('file', Buffer.from(csv, 'utf8'), 'x.csv');

    it('exports postal_address and force_post, and imports them back: unchanged is a no-op, edits apply', async () => {
      const exported = await organiser.get('/admin/targets.csv').buffer(true).expect(200);
      const rows = parse(exported.text, { bom: true, columns: true }) as Row[];
      const de = rows.find((r) => r.country === 'DE' && r.default === 'yes')!;
      expect(de).toMatchObject({
        postal_address: `${germanName}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium`,
        force_post: 'no',
      });
      expect(Object.keys(de)).toEqual([
        'id',
        'country',
        'kind',
        'name',
        'languages',
        'email',
        'website',
        'postal_address',
        'force_post',
        'default',
      ]);
      const same = await upload(exported.text);
      expect(same.headers.location).toBe('/admin/targets?notice=targetsImported&n=0');

      // Poland gets an email and asks for paper all the same; a new addressee comes with an address.
      const pl = rows.find((r) => r.country === 'PL' && r.default === 'yes')!;
      const line = (r: Row) =>
        [r.id, r.country, r.kind, r.name, r.languages, r.email, r.website, r.postal_address, r.force_post, r.default]
          .map((v) => `"${(v ?? '').replace(/"/g, '""')}"`)
          .join(',');
      const header = 'id,country,kind,name,languages,email,website,postal_address,force_post,default';
      const csv = [
        header,
        line({ ...pl, email: 'pl@nato.example', force_post: 'YES' }),
        line({
          id: '',
          country: 'BE',
          kind: 'minister',
          name: 'Minister of Defence',
          languages: 'fr,nl',
          email: '',
          website: '',
          postal_address: 'Rue Lambermont 8\n1000 Brussels',
          force_post: '',
          default: '',
        }),
      ].join('\r\n');
      const applied = await upload(csv);
      expect(applied.headers.location).toBe('/admin/targets?notice=targetsImported&n=2');
      expect(await target(Number(pl.id))).toEqual({
        email: 'pl@nato.example',
        postal: pl.postal_address,
        force: 1,
      });
      const minister = await t.services.store.first(
        sql<{ postal: string; force: number }>`SELECT postal_address AS postal, force_post AS "force"
           FROM targets WHERE name = 'Minister of Defence'`,
      );
      expect(minister).toEqual({ postal: 'Rue Lambermont 8, 1000 Brussels', force: 0 });
      expect(JSON.parse((await audited('targets.import')).at(-1)!.details)).toEqual({ created: 1, updated: 1 });

      const again = parse((await organiser.get('/admin/targets.csv').buffer(true).expect(200)).text, {
        bom: true,
        columns: true,
      }) as Row[];
      expect(again.find((r) => r.id === pl.id)).toMatchObject({ email: 'pl@nato.example', force_post: 'yes' });
    });

    it('keeps postal addresses and forced post when a file without those columns is imported', async () => {
      await organiser
        .post(`/admin/targets/${germany}`)
        .type('form')
        .send(form({ email: 'de@nato.example', postalAddress: 'NATO HQ, 1110 Brussels', forcePost: 'on' }))
        .expect(303);
      const csv = `id,country,kind,name,languages,email,website\r\n${germany},DE,nato_delegation,${germanName},de,new@nato.example,\r\n`;
      const res = await upload(csv);
      expect(res.headers.location).toBe('/admin/targets?notice=targetsImported&n=1');
      expect(await target(germany)).toEqual({ email: 'new@nato.example', postal: 'NATO HQ, 1110 Brussels', force: 1 });
    });

    it('imports nothing and says which line and column when force_post or the address is wrong', async () => {
      const csv = [
        'id,country,kind,name,languages,email,website,postal_address,force_post',
        ',FR,minister,Good Row,fr,,,"1 Rue, Paris",no',
        ',FR,minister,Maybe Row,fr,,,"1 Rue, Paris",perhaps',
        ',FR,minister,Forced Row,fr,x@example.fr,,,yes',
      ].join('\r\n');
      const res = await upload(csv);
      expect(res.status).toBe(400);
      expect(res.text).toContain('Nothing was imported');
      expect(res.text).toContain('Line 3 (force_post): Enter yes or no');
      expect(res.text).toContain('Line 4 (postal_address): Enter a postal address to deliver by post');
      expect(
        await t.services.store.first(sql<{ n: number }>`SELECT count(*) AS n FROM targets WHERE name = 'Good Row'`),
      ).toEqual({ n: 0 });
    });
  });
});
