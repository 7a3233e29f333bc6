import { sql } from 'kysely';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo, setTargetEmailIn, sendUpdate } from '../helpers/factories';
import { aLetter, letterDemand, writeLetter } from '../helpers/letters';
import { tracesOf } from '../helpers/traces';
import { confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';

const day = 24 * 60 * 60 * 1000;
const closing = 'fund-defence-fairly';
const open = 'protect-civil-society';

/** The details of the latest retention run in the audit log. */
async function lastRun(t: TestApp): Promise<Record<string, unknown>> {
  const { store } = t.services;
  const entry = await store.first(
    store.qb.selectFrom('audit_log').select('details').where('action', '=', 'retention.run').orderBy('id', 'desc'),
  );
  return JSON.parse(entry!.details) as Record<string, unknown>;
}

describe('retention of personal data in mail', () => {
  let t: TestApp;
  afterEach(() => t.close());

  async function signAndConfirm(petition: string, name: string, email: string) {
    const agent = t.agent();
    const before = t.smtp!.mails.length;
    expect((await sign(agent, petition, { name, email, country: 'FR', updates: 'on' })).status).toBe(303);
    const mail = (await t.smtp!.waitFor(before + 1)).slice(before).find((m) => m.text?.includes(name))!;
    expect((await confirm(agent, confirmPath(mail.text))).status).toBe(303);
  }

  const outbox = () =>
    t.services.store.all(t.services.store.qb.selectFrom('outbox').select(['kind', 'state', 'recipient']).orderBy('id'));
  const petitionId = async (slug: string) =>
    (await t.services.store.first(t.services.store.qb.selectFrom('petitions').select('id').where('slug', '=', slug)))!
      .id;

  it('deletes mail to people OUTBOX_RETENTION_DAYS after it was sent or given up on, and keeps digests', async () => {
    let now = Date.now();
    t = await createTestApp({ clock: () => now, env: { OUTBOX_MAX_ATTEMPTS: '1', OUTBOX_RETENTION_DAYS: '30' } });
    await signAndConfirm(open, 'Rosa Sent', 'rosa@example.org');
    // The relay refuses one mail for now; with one attempt allowed, it is given up on (dead).
    t.smtp!.respond(() => ({ code: 451, message: 'Try again later' }));
    await sign(t.agent(), open, { name: 'Dora Dead', email: 'dora@example.org', country: 'FR' });
    await t.services.sender.idle();
    t.smtp!.respond(() => undefined);
    // A digest to Italy's delegation: it concerns a batch, whose history needs its row.
    await setTargetEmailIn(t.services.store, 'IT', 'rappnat.mail@esteri.it');
    await addValidatedSignaturesTo(t.services.store, open, [{ name: 'Italo Digest', country: 'IT' }]);
    await t.services.delivery.plan(true);
    await t.services.sender.drain();
    // Mail still to send is never pruned, however old.
    await t.services.sender.stop();
    await sendUpdate(t.services, await petitionId(open), { subject: 'News', message: 'Hello' });
    const before = await outbox();
    expect(before.map((r) => `${r.kind} ${r.state}`)).toEqual([
      'signature_confirmation sent',
      'signature_confirmation dead',
      'digest sent',
      'campaign_update queued',
    ]);

    now += 29 * day;
    await t.services.admin.retention.run(null);
    expect(await outbox()).toEqual(before);

    now += 2 * day;
    await t.services.admin.retention.run(null);
    expect(await outbox()).toEqual([
      { kind: 'digest', state: 'sent', recipient: 'rappnat.mail@esteri.it' },
      { kind: 'campaign_update', state: 'queued', recipient: 'rosa@example.org' },
    ]);
    expect(
      (await tracesOf(t.services.store, ['dora@example.org', 'Dora Dead'])).filter((c) => c.startsWith('outbox')),
    ).toEqual([]);
    // The batch still knows its mail: Message-ID and state.
    const batch = await t.services.store.all(
      sql`SELECT b.state, CASE WHEN b.message_id = o.message_id THEN 1 ELSE 0 END AS same
          FROM batches b JOIN outbox o ON o.id = b.outbox_id`,
    );
    expect(batch).toEqual([{ state: 'sent', same: 1 }]);
    expect(await lastRun(t)).toMatchObject({ anonymised: 0, mailDeleted: 2, mailDays: 30 });
  });

  it("deletes the mail about a petition's signatures when they are anonymised, and nobody else's", async () => {
    t = await createTestApp({ env: { RETENTION_DAYS: '0' } });
    await signAndConfirm(closing, 'Clara Closed', 'clara@example.org');
    await signAndConfirm(open, 'Otto Open', 'otto@example.org');
    await sendUpdate(t.services, await petitionId(closing), { subject: 'News', message: 'Hello' });
    await t.services.sender.idle();
    expect(await tracesOf(t.services.store, ['clara@example.org', 'Clara Closed'])).toContain(
      'outbox.recipient ~ clara@example.org',
    );

    await createAccount(t.services, 'org@example.org', 'organiser');
    const organiser = t.agent();
    await login(organiser, 'org@example.org');
    const page = await organiser.get('/admin/signatures').expect(200);
    expect(page.text).toContain('Any other mail to a person is deleted 30 days after it was sent or given up on');
    const token = await consoleToken(organiser);
    await organiser
      .post(`/admin/petitions/${closing}/state`)
      .type('form')
      .send({ _csrf: token, state: 'closed', confirm: 'yes' });
    const run = await organiser.post('/admin/signatures/retention').type('form').send({ _csrf: token });
    expect(run.headers.location).toBe('/admin/signatures?notice=retentionRun&n=1');

    expect(await tracesOf(t.services.store, ['clara@example.org', 'Clara Closed'])).toEqual([]);
    expect(await outbox()).toEqual([{ kind: 'signature_confirmation', state: 'sent', recipient: 'otto@example.org' }]);
  });
});

describe('retention of letters (LETTER_RETENTION_DAYS)', () => {
  let t: TestApp;
  afterEach(() => t.close());

  const ann = { ...aLetter, name: 'Ann Written', email: 'ann.written@example.org', town: 'Annecy', copy: 'on' };
  const bea = { ...aLetter, name: 'Bea Unconfirmed', email: 'bea@example.org', town: 'Bayonne' };
  const cai = { ...aLetter, name: 'Cai Recent', email: 'cai@example.org', town: 'Caen' };
  const words = (who: string) => `As a nurse called ${who.split(' ')[0]}, I saw the wards close one by one.`;

  it('anonymises letters a year after their final state, with the mail about them; states and counts stay', async () => {
    const start = Date.UTC(2026, 0, 5, 9);
    let now = start;
    t = await createTestApp({
      clock: () => now,
      // Mail is kept longer than letters here: the letters' retention must delete it itself.
      env: { LETTER_LIMIT_PER_MINUTE: '100', OUTBOX_RETENTION_DAYS: '1000' },
    });
    const { store } = t.services;
    // Ann's letter is sent (with a copy to her), and she writes again the same day: a reminder links to it.
    await writeLetter(t, { ...ann, ownWords: words(ann.name) });
    await writeLetter(t, { ...ann, ownWords: words(ann.name) }, { confirm: false });
    // Bea never confirms: her letter expires after 7 days.
    await writeLetter(t, { ...bea, ownWords: words(bea.name) }, { confirm: false });
    await t.services.sender.idle();
    now += 8 * day;
    expect(await t.services.letters.expireStale()).toBe(1);
    // Cai writes three weeks later.
    now += 21 * day;
    await writeLetter(t, { ...cai, ownWords: words(cai.name) });
    await t.services.sender.idle();

    const letters = () =>
      store.all(
        sql<
          Record<string, unknown>
        >`SELECT l.name, l.email, l.email_canonical AS canonical, l.town, l.ip_hash AS "ipHash",
             length(l.fingerprint) AS print, l.state, t.own_words AS "ownWords", length(t.body) AS body
           FROM letters l JOIN letter_texts t ON t.letter_id = l.id ORDER BY l.id`,
      );
    const mailAbout = async (who: { email: string }) =>
      (await store.all(store.qb.selectFrom('outbox').select(['kind', 'recipient', 'params']).orderBy('id')))
        .filter((m) => m.recipient === who.email || m.params.includes(who.email))
        .map((m) => m.kind);
    const demandPage = async () =>
      /<ul[\s\S]*?<\/table>/.exec((await t.agent().get(`/demands/${letterDemand}`).expect(200)).text)![0];
    expect((await letters()).map((l) => l.state)).toEqual(['sent', 'expired', 'sent']);
    expect(await mailAbout(ann)).toEqual(['letter_confirmation', 'letter', 'letter_copy', 'letter_again']);
    expect(await mailAbout(bea)).toEqual(['letter_confirmation']);
    const cais = await mailAbout(cai);
    expect(cais).toEqual(['letter_confirmation', 'letter']);
    const page = await demandPage();
    expect(page).toContain('<td>2</td>');
    const annStatus = `/letters/${t.services.letters.statusToken(
      (await store.first(
        store.qb.selectFrom('letters').select(['id', 'created_at as createdAt']).where('id', '=', 1),
      ))!,
    )}`;

    // A day short of a year after Ann's letter was sent: nothing yet.
    now = start + 364 * day;
    await t.services.admin.retention.run(null);
    expect(await tracesOf(t.services.store, [ann.name, ann.email, ann.town, 'nurse called Ann'])).not.toEqual([]);

    // A year after Bea's letter expired: hers and Ann's are anonymised, Cai's is kept.
    now = start + 8 * day + 365 * day;
    await t.services.admin.retention.run(null);

    const [annRow, beaRow, caiRow] = await letters();
    for (const row of [annRow, beaRow]) {
      expect(row).toMatchObject({ name: '', email: '', town: null, ipHash: null, print: 0, ownWords: '', body: 0 });
      expect(row!.canonical).toMatch(/^anonymised:\d+$/);
    }
    expect(caiRow).toMatchObject({ name: cai.name, email: cai.email, town: 'Caen', state: 'sent' });
    expect((await letters()).map((l) => l.state)).toEqual(['sent', 'expired', 'sent']);
    expect(
      await tracesOf(t.services.store, [
        ann.name,
        ann.email,
        ann.town,
        'nurse called Ann',
        bea.name,
        bea.email,
        bea.town,
        'called Bea',
      ]),
    ).toEqual([]);
    expect(await store.all(sql`SELECT DISTINCT letter_id FROM letter_bands`)).toEqual([{ letter_id: 3 }]);
    expect(await mailAbout(cai)).toEqual(cais);
    expect(await demandPage()).toBe(page);
    const status = await t.agent().get(annStatus).expect(200);
    expect(status.text).not.toContain('nurse');
    expect(await lastRun(t)).toMatchObject({ lettersAnonymised: 2, letterDays: 365, mailDeleted: 5 });

    // Done once: the next run finds nothing more.
    await t.services.admin.retention.run(null);
    expect(await store.first(sql`SELECT count(*) AS n FROM audit_log WHERE action = 'retention.run'`)).toEqual({
      n: 1,
    });
  });
});
