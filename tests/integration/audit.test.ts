import path from 'node:path';
import type TestAgent from 'supertest/lib/agent';
import { commandLineUser } from '../../server/admin/auditLog';
import { consoleToken, createAccount, login, password, seedSignatures } from '../helpers/admin';
import { appEnv, runCli } from '../helpers/cli';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

interface Entry {
  organiser: string | null;
  action: string;
  subject: string | null;
  details: Record<string, unknown>;
}

describe('the audit log', () => {
  let t: TestApp;
  let admin: TestAgent;

  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'admin@example.org', 'admin');
    admin = t.agent();
    await login(admin, 'admin@example.org');
  });
  afterEach(() => t.close());

  const entries = async (action?: string): Promise<Entry[]> => {
    const { store } = t.services;
    let query = store.qb
      .selectFrom('audit_log as a')
      .leftJoin('organisers as o', 'o.id', 'a.organiser_id')
      .select(['o.email as organiser', 'a.action', 'a.subject', 'a.details'])
      .orderBy('a.id');
    if (action !== undefined) query = query.where('a.action', '=', action);
    const rows = await store.all(query);
    return rows.map((e) => ({ ...e, details: JSON.parse(e.details) as Record<string, unknown> }));
  };

  async function as(role: 'viewer' | 'organiser', email = `${role}@example.org`) {
    await createAccount(t.services, email, role);
    const agent = t.agent();
    await login(agent, email);
    return agent;
  }

  it('records the erasure look-up, which lists a person’s signatures', async () => {
    await seedSignatures(t.services, [{ petition: slug, name: 'Lena Looked-Up', email: 'lena@example.org' }]);
    const organiser = await as('organiser');
    const page = await organiser.get('/admin/signatures/erase?email=Lena%40example.org').expect(200);
    expect(page.text).toContain('Lena Looked-Up');
    expect(await entries('person.lookup')).toEqual([
      {
        organiser: 'organiser@example.org',
        action: 'person.lookup',
        subject: null,
        details: { email: 'Lena@example.org', signatures: 1 },
      },
    ]);
  });

  it('records the requests the console refuses to an organiser, and nothing for anonymous ones', async () => {
    const viewer = await as('viewer');
    const token = await consoleToken(viewer);
    await viewer
      .post(`/admin/petitions/${slug}/state`)
      .type('form')
      .send({ _csrf: token, state: 'closed' })
      .expect(403);
    await viewer.get('/admin/exports/signatures.csv?state=all').expect(403);
    const organiser = await as('organiser');
    await organiser.get('/admin/audit').expect(403);
    await organiser.post(`/admin/petitions/${slug}/state`).type('form').send({ state: 'closed' }).expect(403);
    await t.agent().post(`/admin/petitions/${slug}/state`).type('form').send({ state: 'closed' }).expect(403);

    expect(await entries('request.refused')).toEqual([
      {
        organiser: 'viewer@example.org',
        action: 'request.refused',
        subject: `POST /admin/petitions/${slug}/state`,
        details: { reason: 'role', role: 'viewer' },
      },
      {
        organiser: 'viewer@example.org',
        action: 'request.refused',
        subject: 'GET /admin/exports/signatures.csv',
        details: { reason: 'role', role: 'viewer' },
      },
      {
        organiser: 'organiser@example.org',
        action: 'request.refused',
        subject: 'GET /admin/audit',
        details: { reason: 'role', role: 'organiser' },
      },
      {
        organiser: 'organiser@example.org',
        action: 'request.refused',
        subject: `POST /admin/petitions/${slug}/state`,
        details: { reason: 'csrf', role: 'organiser' },
      },
    ]);
  });

  it('reads as words: who did what, to which petition or addressee, and each change before → after', async () => {
    const token = await consoleToken(admin);
    await admin
      .post('/admin/targets')
      .type('form')
      .send({ _csrf: token, kind: 'minister', country: 'FR', name: 'Ministre des Armées', languages: 'fr' })
      .expect(303);
    const minister = (await t.services.store.first(
      t.services.store.qb.selectFrom('targets').select('id').where('name', '=', 'Ministre des Armées'),
    ))!.id;
    const form = (await t.services.admin.petitionAdmin.valuesOf(slug))!;
    await admin
      .post(`/admin/petitions/${slug}`)
      .type('form')
      .send({ _csrf: token, ...form, titleEn: 'Fund defence, fairly', targets: String(minister) })
      .expect(303);
    await t.services.admin.audit.record({
      organiserId: null,
      commandLine: 'ana@campaign-host',
      action: 'delivery.run',
      details: { options: ['--now'] },
    });

    expect((await entries('petition.update'))[0]!.details).toEqual({
      titleEn: { from: form.titleEn, to: 'Fund defence, fairly' },
      addressees: { from: [], to: ['Ministre des Armées'] },
    });
    const page = await admin.get('/admin/audit').expect(200);
    const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain(`Petition edited ${slug} Title (English): ${form.titleEn} → Fund defence, fairly`);
    expect(text).toContain('Addressees: — → Ministre des Armées');
    expect(text).toContain('Addressee added Ministre des Armées Kind: Minister Country: FR Languages: fr');
    expect(text).toContain('command line (ana@campaign-host) Delivery run from the command line Options: --now');
    expect(text).toContain('admin@example.org Logged in');
    expect(page.text).not.toContain('{&quot;');

    const french = await admin.get('/admin/audit?lang=fr').expect(200);
    expect(french.text).toContain('Pétition modifiée');
    expect(french.text).toContain('ligne de commande (ana@campaign-host)');
  });

  describe('the command-line tools', () => {
    /** A tool run on the server; resolves with what it printed, fails unless it exits 0. */
    async function cli(script: string, args: string[], input = '') {
      const run = await runCli(script, args, { ...appEnv(t), BASE_URL: 'http://localhost:3000' }, { stdin: input });
      if (run.code !== 0) throw new Error(`${script}: ${run.code}\n${run.stdout}${run.stderr}`);
      return run.stdout + run.stderr;
    }

    it('records each run: who ran it (user@host), what it did', async () => {
      await seedSignatures(t.services, [{ petition: slug, email: 'someone@example.org' }]);
      const out = path.join(t.dir, 'signatures.csv');
      await cli('server/console/exports/cli.ts', ['--petition', slug, '--out', out]);
      await cli('server/letters/cli.ts', ['--held']);
      await cli('server/delivery/cli.ts', ['--status']);
      await cli('server/admin/cli.ts', ['--email', 'New@Example.org', '--role', 'viewer'], `${password}\n`);

      const who = commandLineUser();
      expect(who).toMatch(/^[^@\s]+@[^@\s]+$/);
      const ran = (await entries()).filter((e) => e.organiser === null);
      expect(ran).toEqual([
        {
          organiser: null,
          action: 'signatures.export',
          subject: slug,
          details: { petition: slug, country: '', state: 'validated', output: out, commandLine: who },
        },
        { organiser: null, action: 'letters.held', subject: null, details: { count: 0, commandLine: who } },
        {
          organiser: null,
          action: 'delivery.run',
          subject: null,
          details: { options: ['--status'], commandLine: who },
        },
        {
          organiser: null,
          action: 'account.create',
          subject: 'new@example.org',
          details: { role: 'viewer', commandLine: who },
        },
      ]);
    });
  });
});
