import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignatures, setTargetEmail } from '../helpers/factories';
import { tracesOf } from '../helpers/traces';
import { confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';

const day = 24 * 60 * 60 * 1000;
const closing = 'fund-defence-fairly';
const open = 'protect-civil-society';

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
    t.services.db.prepare('SELECT kind, state, recipient FROM outbox ORDER BY id').all() as Array<{
      kind: string;
      state: string;
      recipient: string;
    }>;

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
    setTargetEmail(t.services.db, 'IT', 'rappnat.mail@esteri.it');
    addValidatedSignatures(t.services.db, open, [{ name: 'Italo Digest', country: 'IT' }]);
    t.services.delivery.plan(true);
    await t.services.sender.drain();
    // Mail still to send is never pruned, however old.
    await t.services.sender.stop();
    t.services.signatures.queueCampaignUpdate(
      t.services.db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck().get(open) as number,
      { subject: 'News', message: 'Hello' },
    );
    const before = outbox();
    expect(before.map((r) => `${r.kind} ${r.state}`)).toEqual([
      'signature_confirmation sent',
      'signature_confirmation dead',
      'digest sent',
      'campaign_update queued',
    ]);

    now += 29 * day;
    t.services.admin.retention.run(null);
    expect(outbox()).toEqual(before);

    now += 2 * day;
    t.services.admin.retention.run(null);
    expect(outbox()).toEqual([
      { kind: 'digest', state: 'sent', recipient: 'rappnat.mail@esteri.it' },
      { kind: 'campaign_update', state: 'queued', recipient: 'rosa@example.org' },
    ]);
    expect(tracesOf(t.services.db, ['dora@example.org', 'Dora Dead']).filter((c) => c.startsWith('outbox'))).toEqual(
      [],
    );
    // The batch still knows its mail: Message-ID and state.
    const batch = t.services.db
      .prepare('SELECT b.state, b.message_id = o.message_id AS same FROM batches b JOIN outbox o ON o.id = b.outbox_id')
      .get();
    expect(batch).toEqual({ state: 'sent', same: 1 });
    const entry = t.services.db
      .prepare("SELECT details FROM audit_log WHERE action = 'retention.run' ORDER BY id DESC")
      .pluck()
      .get() as string;
    expect(JSON.parse(entry)).toMatchObject({ anonymised: 0, mailDeleted: 2, mailDays: 30 });
  });

  it("deletes the mail about a petition's signatures when they are anonymised, and nobody else's", async () => {
    t = await createTestApp({ env: { RETENTION_DAYS: '0' } });
    await signAndConfirm(closing, 'Clara Closed', 'clara@example.org');
    await signAndConfirm(open, 'Otto Open', 'otto@example.org');
    const petitionId = (slug: string) =>
      t.services.db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck().get(slug) as number;
    t.services.signatures.queueCampaignUpdate(petitionId(closing), { subject: 'News', message: 'Hello' });
    await t.services.sender.idle();
    expect(tracesOf(t.services.db, ['clara@example.org', 'Clara Closed'])).toContain(
      'outbox.recipient ~ clara@example.org',
    );

    await createAccount(t.services, 'org@example.org', 'organiser');
    const organiser = t.agent();
    await login(organiser, 'org@example.org');
    const page = await organiser.get('/admin/signatures').expect(200);
    expect(page.text).toContain('Any other mail to a person is deleted 30 days after it was sent or given up on');
    const token = await consoleToken(organiser);
    await organiser.post(`/admin/petitions/${closing}/state`).type('form').send({ _csrf: token, state: 'closed' });
    const run = await organiser.post('/admin/signatures/retention').type('form').send({ _csrf: token });
    expect(run.headers.location).toBe('/admin/signatures?notice=retentionRun&n=1');

    expect(tracesOf(t.services.db, ['clara@example.org', 'Clara Closed'])).toEqual([]);
    expect(outbox()).toEqual([{ kind: 'signature_confirmation', state: 'sent', recipient: 'otto@example.org' }]);
  });
});
