import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { ParsedMail } from 'mailparser';
import { createAccount, consoleToken, login } from '../helpers/admin';
import { addPetitionTargetTo, addValidatedSignaturesTo, setTargetEmailIn } from '../helpers/factories';
import { setTargetPostIn } from '../helpers/packs';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { formulaCells, readAsSpreadsheet } from '../helpers/spreadsheet';
import { confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { until } from '../helpers/until';

const slug = 'protect-civil-society';
const italy = 'rappnat.mail@esteri.it'; // the one delegation address in the seed

function attachment(mail: ParsedMail): { rows: string[][]; raw: string } {
  const file = mail.attachments.find((a) => a.contentType.startsWith('text/csv'));
  if (!file) throw new Error('no CSV attachment');
  const raw = file.content.toString('utf8');
  return { rows: parse(raw) as string[][], raw };
}

describe('batched delivery of signatures to the delegations', () => {
  let t: TestApp;
  // Relays a test starts itself close after the app: the app's pooled connection would hold them open.
  const relays: SmtpSink[] = [];
  afterEach(async () => {
    await t?.close();
    for (const relay of relays.splice(0)) await relay.close();
  });

  async function app(env: Record<string, string> = {}) {
    t = await createTestApp({ env: { DIGEST_SIZE: '3', DIGEST_HOURS: '24', ...env } });
    return t;
  }

  async function deliver(force = false) {
    const planned = await t.services.delivery.plan(force);
    const sent = await t.services.sender.drain();
    return { planned, sent };
  }

  it('sends each country delegation a digest of its signers once N have accrued', async () => {
    await app();
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Giulia Rossi', country: 'IT', postcode: '00184 Roma' },
      { name: 'Marco Bianchi', country: 'IT' },
    ]);
    expect((await deliver()).planned.batches).toBe(0); // 2 < N = 3, and not a day old
    // Signed under the first wording, which did not say the postcode goes to the delegations.
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Chiara Verdi', country: 'IT', postcode: '20121 Milano', consentVersion: '2026-11-26' },
    ]);
    const { planned } = await deliver();
    expect(planned).toMatchObject({ batches: 1, signatures: 3 });

    const [mail] = await t.smtp!.waitFor(1);
    expect(mail!.to).toMatchObject({ text: italy });
    expect(mail!.subject).toMatch(/3 new signatures$/);
    expect(mail!.text).toContain('Signatures sent to you for this petition so far, this batch included: 3.');
    expect(mail!.html).toContain('protect the freedom to speak');
    const { rows, raw } = attachment(mail!);
    expect(rows).toEqual([
      ['name', 'postcode_or_town', 'country', 'date_signed'],
      ['Giulia Rossi', '00184 Roma', 'Italy', expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)],
      ['Marco Bianchi', '', 'Italy', expect.any(String)],
      ['Chiara Verdi', '', 'Italy', expect.any(String)],
    ]);
    const sha = crypto.createHash('sha256').update(raw).digest('hex');
    expect(mail!.text).toContain(`SHA-256: ${sha}`);
    expect(mail!.html).toContain(sha);

    await t.services.sender.idle();
    const [batch] = await t.services.delivery.status();
    expect(batch).toMatchObject({ state: 'sent', signatures: 3, country: 'IT' });
    const stored = await t.services.store.all(
      t.services.store.qb.selectFrom('batches').select(['message_id', 'csv_sha256']),
    );
    expect(stored).toEqual([{ message_id: mail!.messageId, csv_sha256: sha }]);

    // The next digest carries only new signatures, with the running total.
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [1, 2, 3].map((i) => ({ name: `Nuovo ${i}`, country: 'IT' })),
    );
    await deliver();
    const second = (await t.smtp!.waitFor(2))[1]!;
    expect(
      attachment(second)
        .rows.slice(1)
        .map((r) => r[0]),
    ).toEqual(['Nuovo 1', 'Nuovo 2', 'Nuovo 3']);
    expect(second.text).toContain('this batch included: 6.');
  });

  it('sends what waited T hours even below N, and everything on demand', async () => {
    await app({ DIGEST_SIZE: '100', DIGEST_HOURS: '1' });
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [{ name: 'Early', country: 'IT' }],
      Date.now() - 2 * 3600_000,
    );
    await addValidatedSignaturesTo(t.services.store, 'fund-defence-fairly', [{ name: 'Recent', country: 'IT' }]);
    expect((await deliver()).planned).toMatchObject({ batches: 1, signatures: 1 });
    expect((await deliver()).planned.batches).toBe(0);
    expect((await deliver(true)).planned).toMatchObject({ batches: 1, signatures: 1 });
    const names = (await t.smtp!.waitFor(2)).map((m) => attachment(m).rows[1]![0]);
    expect(names.sort()).toEqual(['Early', 'Recent']);
  });

  it('holds signatures for a target without an address, and sends them once one is set', async () => {
    await app();
    // Neither an email nor a postal address (with one, the signatures would go in a hand-in pack).
    await setTargetPostIn(t.services.store, 'FR', { address: null });
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [1, 2, 3, 4].map((i) => ({ name: `Signataire ${i}`, country: 'FR' })),
    );
    expect((await deliver(true)).planned).toMatchObject({ batches: 0, awaitingAddress: 4 });
    expect(t.smtp!.mails).toHaveLength(0);
    await setTargetEmailIn(t.services.store, 'FR', 'delegation-fr@example.org');
    expect((await deliver()).planned).toMatchObject({ batches: 1, signatures: 4, awaitingAddress: 0 });
    const [mail] = await t.smtp!.waitFor(1);
    expect(mail!.to).toMatchObject({ text: 'delegation-fr@example.org' });
    // France reads French: the digest is in French.
    expect(mail!.subject).toContain('nouvelles signatures');
    expect(attachment(mail!).rows[1]).toEqual(['Signataire 1', '', 'France', expect.any(String)]);
  });

  it('leaves out signatures invalidated or erased between batching and sending, and counts what it sends', async () => {
    await app();
    const italians = (names: string[]) =>
      addValidatedSignaturesTo(
        t.services.store,
        slug,
        names.map((name) => ({ name, country: 'IT', email: `${name.toLowerCase()}@example.org` })),
      );
    const [, fraud] = await italians(['Giulia', 'Bot', 'Marco', 'Erased']);
    expect(await t.services.delivery.plan()).toMatchObject({ batches: 1, signatures: 4 });
    // Before the digest goes out, organisers invalidate one signature and erase another person.
    await t.services.store.run(
      t.services.store.qb
        .updateTable('signatures')
        .set({ state: 'invalidated', invalidated_at: Date.now() })
        .where('id', '=', fraud!),
    );
    expect(await t.services.admin.erasure.erase('erased@example.org')).toMatchObject({ signatures: 1 });
    await t.services.sender.drain();
    const [first] = await t.smtp!.waitFor(1);
    expect(
      attachment(first!)
        .rows.slice(1)
        .map((r) => r[0]),
    ).toEqual(['Giulia', 'Marco']);
    expect(first!.subject).toMatch(/ 2 new signatures$/);
    expect(first!.text).toContain('this batch included: 2.');
    await t.services.sender.idle();
    expect((await t.services.delivery.status())[0]).toMatchObject({ state: 'sent', signatures: 2 });

    // The running total counts what was sent, not what was withdrawn.
    await italians(['Chiara', 'Luca', 'Sofia']);
    await deliver();
    const [, second] = await t.smtp!.waitFor(2);
    expect(second!.text).toContain('this batch included: 5.');
  });

  it('sends nothing when every signature of a digest was withdrawn, and says why', async () => {
    await app();
    const ids = await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
    );
    expect((await t.services.delivery.plan()).batches).toBe(1);
    await t.services.store.run(
      t.services.store.qb.updateTable('signatures').set({ state: 'invalidated' }).where('id', 'in', ids),
    );
    await t.services.sender.drain();
    await t.services.sender.idle();
    expect(t.smtp!.attempts).toBe(0);
    const [batch] = await t.services.delivery.status();
    expect(batch).toMatchObject({ state: 'failed', attempts: 1 });
    expect(batch!.lastError).toContain('every signature of this digest was invalidated or erased');
  });

  it("sends a queued digest to the delegation's corrected address; one whose address was removed waits for a new one", async () => {
    await app();
    const three = (from: number) =>
      addValidatedSignaturesTo(
        t.services.store,
        slug,
        [0, 1, 2].map((i) => ({ name: `S${from + i}`, country: 'IT' })),
      );
    await three(1);
    expect((await t.services.delivery.plan()).batches).toBe(1);
    await setTargetEmailIn(t.services.store, 'IT', 'corrected@esteri.example');
    await t.services.sender.drain();
    const [corrected] = await t.smtp!.waitFor(1);
    expect(t.smtp!.envelopes[0]).toEqual(['corrected@esteri.example']);
    expect(corrected!.to).toMatchObject({ text: 'corrected@esteri.example' });

    await three(4);
    expect((await t.services.delivery.plan()).batches).toBe(1);
    // No address of any kind left (with a postal one, the next plan would make a hand-in pack).
    await setTargetPostIn(t.services.store, 'IT', { address: null });
    await setTargetEmailIn(t.services.store, 'IT', null);
    await t.services.sender.drain();
    await t.services.sender.idle();
    expect(t.smtp!.attempts).toBe(1); // nothing went out
    // The batch is given up, empty, and its signatures wait for an address like any others.
    expect((await t.services.delivery.status())[0]).toMatchObject({ state: 'failed', signatures: 0 });
    expect(await t.services.delivery.awaitingAddress()).toEqual([expect.objectContaining({ country: 'IT', count: 3 })]);

    await setTargetEmailIn(t.services.store, 'IT', 'new@esteri.example');
    expect((await deliver()).planned).toMatchObject({ batches: 1, signatures: 3 });
    const [, later] = await t.smtp!.waitFor(2);
    expect(later!.to).toMatchObject({ text: 'new@esteri.example' });
    expect(
      attachment(later!)
        .rows.slice(1)
        .map((r) => r[0]),
    ).toEqual(['S4', 'S5', 'S6']);
    expect(later!.text).toContain('this batch included: 6.');
  });

  it('sends petition-wide targets every signature, whatever the country, and the delegation only its own', async () => {
    await app();
    await addPetitionTargetTo(t.services.store, slug, { name: 'Assembly rapporteur', email: 'rapporteur@example.org' });
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Ana', country: 'PT' },
      { name: 'Luca', country: 'IT' },
      { name: 'Kim', country: 'KR' },
    ]);
    await deliver(true);
    const mails = await t.smtp!.waitFor(2);
    const byRecipient = Object.fromEntries(mails.map((m) => [m.to && 'text' in m.to ? m.to.text : '', attachment(m)]));
    expect(byRecipient[italy]!.rows.slice(1).map((r) => r[0])).toEqual(['Luca']);
    expect(byRecipient['rapporteur@example.org']!.rows.slice(1).map((r) => r[0])).toEqual(['Ana', 'Luca', 'Kim']);
  });

  it('neutralises formula prefixes in the attachment', async () => {
    await app();
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: '=HYPERLINK("http://x")', country: 'IT', postcode: '+39 123' },
      { name: '@SUM(1)', country: 'IT', postcode: '-1' },
      { name: 'Zoë 李雷', country: 'IT', postcode: '\tTab' },
    ]);
    await deliver();
    const { rows } = attachment((await t.smtp!.waitFor(1))[0]!);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      [`'=HYPERLINK("http://x")`, `'+39 123`],
      [`'@SUM(1)`, `'-1`],
      ['Zoë 李雷', `'\tTab`],
    ]);
  });

  it('gives a delegation whose spreadsheet splits on ";" no formula, only text, in the attachment', async () => {
    await app();
    const signer = t.agent();
    const typed = [
      { name: 'Jean;=1+1;', postcode: '00184;+SUM(A1)' },
      { name: 'Anna|+39 06', postcode: 'Roma, -1' },
      { name: 'Luca Neri', postcode: 'Milano' },
    ];
    for (const [i, fields] of typed.entries()) {
      const res = await sign(signer, slug, { ...fields, email: `typed${i}@example.org`, country: 'IT' });
      expect(res.status).toBe(303);
    }
    for (const mail of await t.smtp!.waitFor(typed.length)) {
      expect((await confirm(signer, confirmPath(mail.text))).status).toBe(303);
    }
    expect((await deliver()).planned).toMatchObject({ batches: 1, signatures: 3 });
    const digest = (await t.smtp!.waitFor(typed.length + 1)).find((m) => m.to && 'text' in m.to && m.to.text === italy);
    const { rows, raw } = attachment(digest!);
    for (const separator of [';', '\t', '|']) {
      expect([separator, formulaCells(readAsSpreadsheet(raw, separator))]).toEqual([separator, []]);
    }
    // Split on ";", the piece after the separator is a cell of its own: it starts with an apostrophe.
    expect(readAsSpreadsheet(raw, ';').flat()).toContainEqual(expect.stringMatching(/^'\+SUM\(A1\)/));
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ["Jean;'=1+1;", "00184;'+SUM(A1)"],
      ["Anna|'+39 06", "Roma,' -1"],
      ['Luca Neri', 'Milano'],
    ]);
  });

  it('runs on its own inside the server, on a schedule', async () => {
    await app({ DELIVERY_INTERVAL_MS: '50', OUTBOX_POLL_MS: '50' });
    t.services.startBackground();
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
    );
    const [mail] = await t.smtp!.waitFor(1);
    expect(attachment(mail!).rows).toHaveLength(4);
  });

  describe('when the relay misbehaves', () => {
    it('retries a 451 and delivers on the retry, with the same Message-ID', async () => {
      await app();
      t.smtp!.respond((n) => (n === 0 ? { code: 451, message: 'Greylisted' } : undefined));
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      );
      await deliver();
      const [mail] = await t.smtp!.waitFor(1);
      expect(t.smtp!.attempts).toBe(2);
      await t.services.sender.idle();
      expect((await t.services.delivery.status())[0]).toMatchObject({ state: 'sent', attempts: 2 });
      const batches = await t.services.store.all(t.services.store.qb.selectFrom('batches').select('message_id'));
      expect(batches).toEqual([{ message_id: mail!.messageId }]);
    });

    it('fails a 550 after one attempt, without retrying', async () => {
      await app();
      t.smtp!.respond(() => ({ code: 550, message: 'Mailbox unavailable' }));
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      );
      const { sent } = await deliver();
      expect(sent).toMatchObject({ sent: 0, failed: 1 });
      expect(t.smtp!.attempts).toBe(1);
      expect((await t.services.delivery.status())[0]).toMatchObject({ state: 'failed', attempts: 1 });
      expect((await t.services.delivery.status())[0]!.lastError).toContain('550');
    });

    it('shows a pause to organisers on the dashboard, and lets them resume', async () => {
      const credentials = { user: 'app', pass: 'right' };
      const relay = await startSmtpSink({ auth: credentials });
      relays.push(relay);
      await app({ SMTP_URL: relay.url.replace('app:right@', 'app:new@') });
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      );
      await deliver();
      await createAccount(t.services, 'organiser@example.org', 'organiser');
      const agent = t.agent();
      await login(agent, 'organiser@example.org');
      const dashboard = await agent.get(`/admin?petition=${slug}`).expect(200);
      expect(dashboard.text).toContain('Mail delivery is paused');
      expect(dashboard.text).toMatch(/535/);
      expect(dashboard.text).toContain('Queued');

      credentials.pass = 'new'; // the relay's password was changed to what SMTP_URL says
      await agent
        .post('/admin/delivery/resume')
        .type('form')
        .send({ _csrf: await consoleToken(agent, `/admin?petition=${slug}`) })
        .expect(303);
      await relay.waitFor(1);
      await t.services.sender.idle();
      const after = await agent.get(`/admin?petition=${slug}`).expect(200);
      expect(after.text).not.toContain('Mail delivery is paused');
      expect(after.text).toContain('Sent');
    });

    it('pauses all delivery on an authentication failure (535), and resumes when told', async () => {
      const relay = await startSmtpSink({ auth: { user: 'app', pass: 'right' } });
      relays.push(relay);
      await app({ SMTP_URL: relay.url.replace('app:right@', 'app:wrong@') });
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      );
      const { sent } = await deliver();
      expect(sent.paused).toMatch(/535/);
      expect((await t.services.sender.paused())?.reason).toMatch(/535/);
      // Nothing is tried while paused, and the attempt did not count against the batch.
      expect((await t.services.sender.drain()).paused).toBeDefined();
      expect(
        await t.services.store.all(t.services.store.qb.selectFrom('outbox').select(['state', 'attempts'])),
      ).toEqual([{ state: 'queued', attempts: 0 }]);
      expect(await t.services.sender.resume()).toBe(true);
      expect(await t.services.sender.paused()).toBeUndefined();
    });

    it('retries while the relay is down, and delivers when it is back', async () => {
      const first = await startSmtpSink();
      const port = first.port;
      await first.close();
      await app({ SMTP_URL: `smtp://127.0.0.1:${port}`, OUTBOX_BACKOFF_MS: '100', OUTBOX_POLL_MS: '50' });
      await addValidatedSignaturesTo(
        t.services.store,
        slug,
        [1, 2, 3].map((i) => ({ name: `S${i}`, country: 'IT' })),
      );
      await t.services.delivery.plan();
      t.services.sender.start();
      // The first attempt fails (nothing listens): wait for it to be recorded.
      const outboxRow = async () =>
        (await t.services.store.first(
          t.services.store.qb
            .selectFrom('outbox')
            .select(['state', 'attempts', 'last_error as lastError'])
            .orderBy('id'),
        ))!;
      const row = await until(async () => {
        const now = await outboxRow();
        return now.lastError !== null && now;
      }, 'the failed attempt');
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.lastError).toMatch(/ECONNREFUSED|ECONNECTION/);
      const back = await startSmtpSink({ port });
      relays.push(back);
      const [mail] = await back.waitFor(1, 10_000);
      expect(attachment(mail!).rows).toHaveLength(4);
      // The relay has it: the sender records it once the relay's answer reaches it.
      await until(async () => (await t.services.delivery.status())[0]!.state === 'sent', 'the digest recorded as sent');
    });
  });
});
