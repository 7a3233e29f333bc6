import { sql } from 'kysely';
import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login, password } from '../helpers/admin';
import { writeLetter, aLetter } from '../helpers/letters';
import { emailTracesOf, rowsMentioning, tracesOf } from '../helpers/traces';
import { confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

describe('erasing a person (POST /admin/signatures/erase)', () => {
  let t: TestApp;
  let organiser: TestAgent;

  async function start(env: Record<string, string> = {}) {
    t = await createTestApp({ env: { SIGN_LIMIT_PER_MINUTE: '100', LETTER_LIMIT_PER_MINUTE: '100', ...env } });
    await createAccount(t.services, 'org@example.org', 'organiser');
    organiser = t.agent();
    await login(organiser, 'org@example.org');
  }
  afterEach(() => t.close());

  async function signAndConfirm(name: string, email: string) {
    const agent = t.agent();
    const before = t.smtp!.mails.length;
    expect((await sign(agent, slug, { name, email, country: 'FR' })).status).toBe(303);
    const mail = (await t.smtp!.waitFor(before + 1)).slice(before).find((m) => m.text?.includes(name))!;
    expect((await confirm(agent, confirmPath(mail.text))).status).toBe(303);
  }

  async function erase(email: string) {
    const res = await organiser
      .post('/admin/signatures/erase')
      .type('form')
      .send({ _csrf: await consoleToken(organiser), email });
    expect(res.status).toBe(303);
    const entry = await t.services.store.first(
      t.services.store.qb.selectFrom('audit_log').select('details').where('action', '=', 'person.erase'),
    );
    return entry!.details;
  }

  it('finds the person under any form of their address, in every column of every table', async () => {
    await start();
    await signAndConfirm('Janet Doerr', 'ja.net.doerr@gmail.com');
    await writeLetter(t, { ...aLetter, name: 'Janet Doerr', email: 'Janet.Doerr+letters@googlemail.com', copy: 'on' });
    // The organiser searches and looks her up with the address written as she did not write it.
    await organiser.get('/admin/signatures?q=janetdoerr%40gmail.com').expect(200);
    await organiser.get('/admin/signatures/erase?email=JanetDoerr%40gmail.com').expect(200);
    await t.services.sender.idle();
    expect((await emailTracesOf(t.services.store, 'janetdoerr@gmail.com')).length).toBeGreaterThan(4);

    const entry = await erase('ja.net.doerr@gmail.com');

    expect(await emailTracesOf(t.services.store, 'janetdoerr@gmail.com')).toEqual([]);
    expect(await tracesOf(t.services.store, ['Janet Doerr', 'ja.net.doerr', 'janetdoerr', 'janet.doerr'])).toEqual([]);
    expect(JSON.parse(entry)).toMatchObject({ rows: { signatures: 1, letters: 1 } });
  });

  it('erases a person who only wrote a letter: the letter, the mail about it and the copy to them', async () => {
    await start();
    await writeLetter(t, { ...aLetter, name: 'Hedy Lamarr', email: 'Hedy.Lamarr@gmail.com', copy: 'on' });
    await t.services.sender.idle();
    expect(await tracesOf(t.services.store, ['Hedy Lamarr'])).toContain('outbox.params ~ Hedy Lamarr');

    const entry = await erase('hedylamarr+old@googlemail.com');

    expect(await emailTracesOf(t.services.store, 'hedy.lamarr@gmail.com')).toEqual([]);
    expect(await tracesOf(t.services.store, ['Hedy Lamarr', 'hedy.lamarr', 'hedylamarr'])).toEqual([]);
    expect(JSON.parse(entry)).toMatchObject({ rows: { signatures: 0, letters: 1 } });
  });

  it('leaves alone everyone whose address merely contains the erased one', async () => {
    // A back-off long enough that a refused letter stays queued for the length of the test.
    await start({ OUTBOX_BACKOFF_MS: '3600000' });
    await signAndConfirm('Ann Erased', 'ann@x.org');
    // Joann's letter to Italy is refused for now by the relay: it waits in the outbox, Reply-To her.
    await writeLetter(
      t,
      { ...aLetter, name: 'Joann Kept', email: 'joann@x.org' },
      { beforeConfirm: () => t.smtp!.respond(() => ({ code: 451, message: 'Try again later' })) },
    );
    await t.services.sender.idle();
    await organiser.get('/admin/signatures?q=jo.ann%40x.org').expect(200);
    await organiser.get('/admin/signatures?q=ann%40x.org').expect(200);
    const queued = async () =>
      (
        await t.services.store.all(
          t.services.store.qb.selectFrom('outbox').select(['state', 'params']).where('kind', '=', 'letter'),
        )
      ).map(({ state, params }) => ({ state, replyTo: (JSON.parse(params) as { replyTo?: string }).replyTo }));
    expect(await queued()).toEqual([{ state: 'queued', replyTo: 'joann@x.org' }]);
    const others = () =>
      Promise.all(['joann@x.org', 'jo.ann@x.org', 'Joann Kept'].map((n) => rowsMentioning(t.services.store, n)));
    const before = await others();
    expect(before.flat().length).toBeGreaterThan(4);

    await erase('ann@x.org');

    expect(await emailTracesOf(t.services.store, 'ann@x.org')).toEqual([]);
    expect(await tracesOf(t.services.store, ['Ann Erased'])).toEqual([]);
    expect(await others()).toEqual(before);
    expect(await queued()).toEqual([{ state: 'queued', replyTo: 'joann@x.org' }]);
  });
  it("erases a stranger who took the console's words as names, and leaves every other audit entry as it was", async () => {
    await start();
    const stranger = 'stranger@example.org';
    // The console's own words, as names: its roles, and parts of the organisers' addresses.
    const names = ['admin', 'example', 'viewer'];
    const petitions = ['fund-defence-fairly', 'protect-civil-society', 'halt-unlawful-arms-transfers'];
    for (const [i, petition] of petitions.entries()) {
      expect((await sign(t.agent(), petition, { name: names[i], email: stranger, country: 'FR' })).status).toBe(303);
    }
    // An admin creates a viewer; the viewer tries the exports; someone fails to log in as the admin.
    await createAccount(t.services, 'admin@example.org', 'admin');
    const admin = t.agent();
    await login(admin, 'admin@example.org');
    await admin
      .post('/admin/accounts')
      .type('form')
      .send({ _csrf: await consoleToken(admin), email: 'viewer@example.org', password, role: 'viewer' })
      .expect(303);
    const viewer = t.agent();
    await login(viewer, 'viewer@example.org');
    await viewer.get('/admin/exports').expect(403);
    expect((await login(t.agent(), 'admin@example.org', 'not the password at all')).status).toBe(401);
    // Searches for someone else: the words are there, but they did not find the stranger.
    await organiser.get('/admin/signatures?q=admin%40example.org').expect(200);
    await organiser.get('/admin/signatures?q=Viewer%20Smith').expect(200);
    // What concerns the stranger: a search by their address, one that found them by name, the look-up.
    await organiser.get('/admin/signatures?q=Stranger%40example.org').expect(200);
    await organiser.get('/admin/signatures?q=exam').expect(200);
    await organiser.get('/admin/signatures/erase?email=stranger%40example.org').expect(200);

    const audit = () =>
      t.services.store.all(
        t.services.store.qb
          .selectFrom('audit_log')
          .select(['id', 'at', 'organiser_id', 'action', 'subject', 'details'])
          .orderBy('id'),
      );
    const before = await audit();
    const theirs = (e: { action: string; details: string }) =>
      e.action === 'person.lookup' || (e.action === 'signatures.search' && /stranger|exam"/i.test(e.details));
    expect(before.filter(theirs)).toHaveLength(3);
    expect(before.filter((e) => !theirs(e)).map((e) => [e.action, e.subject, e.details])).toEqual(
      expect.arrayContaining([
        ['account.create', 'viewer@example.org', '{"role":"viewer"}'],
        ['request.refused', 'GET /admin/exports', '{"reason":"role","role":"viewer"}'],
        ['login.failed', null, '{"reason":"password"}'],
        ['signatures.search', null, '{"q":"admin@example.org"}'],
        ['signatures.search', null, '{"q":"Viewer Smith"}'],
      ]),
    );

    const entry = await erase(stranger);

    expect(JSON.parse(entry)).toMatchObject({ rows: { signatures: 3 } });
    const after = (await audit()).filter((e) => e.action !== 'person.erase');
    // Every entry that did not concern them, byte for byte.
    expect(after.filter((e) => !before.find((b) => b.id === e.id && theirs(b)))).toEqual(
      before.filter((e) => !theirs(e)),
    );
    // Theirs no longer say whom they were about.
    expect(after.filter((e) => before.find((b) => b.id === e.id && theirs(b))).map((e) => e.details)).toEqual([
      '{"q":"[erased]"}',
      '{"q":"[erased]"}',
      '{"email":"[erased]","signatures":3}',
    ]);
    expect(await emailTracesOf(t.services.store, stranger)).toEqual([]);
    expect(
      await t.services.store.first(
        sql`SELECT count(*) AS n FROM signatures WHERE name IN ('admin', 'example', 'viewer')`,
      ),
    ).toEqual({ n: 0 });
  });
});
