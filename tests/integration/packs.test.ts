import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { addValidatedSignaturesTo, setTargetEmailIn } from '../helpers/factories';
import { addPostLetterTo, fakePdf, setTargetPostIn } from '../helpers/packs';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly'; // the petition of the demand below
const demand = 'progressive-taxation';
const hour = 3600_000;
const day = 24 * hour;

describe('hand-in packs: planning by channel, records, undo', () => {
  let t: TestApp;
  let now = Date.UTC(2026, 11, 1, 9);
  afterEach(() => t?.close());

  async function app() {
    now = Date.UTC(2026, 11, 1, 9);
    t = await createTestApp({
      env: { DIGEST_SIZE: '3', DIGEST_HOURS: '24' },
      clock: () => now,
      renderPackPdf: fakePdf, // server/packs/packPdf.ts is another change's; this fake prints the document
    });
    return t;
  }

  const csvOf = async (id: number) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const sha = await t.services.packs.writeCsv(id, out);
    out.end();
    const raw = Buffer.concat(chunks).toString('utf8');
    return { raw, rows: parse(raw) as string[][], sha: sha! };
  };
  const pdfOf = async (id: number) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await t.services.packs.writePdf(id, out);
    out.end();
    return Buffer.concat(chunks).toString('utf8');
  };
  const batches = () =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('batches')
        .select(['id', 'target_id', 'channel', 'state', 'outbox_id', 'signature_count', 'letter_count'])
        .orderBy('id'),
    );
  const outboxKinds = () =>
    t.services.store.all(t.services.store.qb.selectFrom('outbox').select(['kind', 'recipient', 'next_attempt_at']));

  it('plans packs for delegations without an email, digests for those with one, and waits for neither', async () => {
    await app();
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'Giulia', country: 'IT' },
        { name: 'Gerda Müller', country: 'DE', postcode: '10115 Berlin' },
        { name: 'Γιώργος Παπαδόπουλος', country: 'GR' },
        { name: 'Wiebke', country: 'DE', consentVersion: '2026-11-26', postcode: '20095 Hamburg' },
      ],
      now,
    );
    await setTargetPostIn(t.services.store, 'GR', { address: null }); // neither email nor postal address
    const planned = await t.services.delivery.plan(true);
    expect(planned).toEqual({
      batches: 1,
      signatures: 1,
      packs: 1,
      packSignatures: 2,
      packLetters: 0,
      awaitingAddress: 1,
    });
    const rows = await batches();
    // Planned by petition × target: Germany's delegation comes before Italy's.
    expect(rows.map((b) => [b.channel, b.state, b.outbox_id === null, b.signature_count])).toEqual([
      ['post', 'queued', true, 2],
      ['email', 'queued', false, 1],
    ]);
    const [pack] = await t.services.packs.list();
    expect(pack).toMatchObject({ country: 'DE', signatures: 2, letters: 0, state: 'queued' });
    // No mail for a pack: only the Italian digest is in the outbox.
    expect((await outboxKinds()).map((o) => o.kind)).toEqual(['digest']);

    // The CSV is the digest's format; the town only where the wording said so.
    const csv = await csvOf(pack!.id);
    expect(csv.rows).toEqual([
      ['name', 'postcode_or_town', 'country', 'date_signed'],
      ['Gerda Müller', '10115 Berlin', 'Germany', '2026-12-01'],
      ['Wiebke', '', 'Germany', '2026-12-01'],
    ]);
    expect(csv.sha).toBe(crypto.createHash('sha256').update(csv.raw).digest('hex'));
    const doc = (await t.services.packs.document(pack!.id))!;
    expect(doc).toMatchObject({
      lang: 'en',
      target: { countryName: 'Germany', postalAddress: expect.stringContaining('1110 Brussels') },
      totals: { thisPack: 2, runningTotal: 2, fromCountry: 2, fromOthers: 0, letters: 0 },
      integrity: { confirmedByEmail: true, invalidated: 0, firstSigned: now, lastSigned: now },
      csvSha256: csv.sha,
      verifyUrl: `http://localhost:3000/verify/${csv.sha.slice(0, 12)}`,
    });
    const stored = await t.services.packs.find(pack!.id);
    expect(stored!.csvSha256).toBe(csv.sha);
  });

  it('dates the CSV’s rows by their day in Brussels, as the PDF prints them', async () => {
    await app();
    // 23:30 UTC on 30 November: 00:30 on 1 December in Brussels.
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [{ name: 'Nachteule', country: 'DE' }],
      Date.UTC(2026, 10, 30, 23, 30),
    );
    await t.services.delivery.plan(true);
    const [pack] = await t.services.packs.list();
    expect((await csvOf(pack!.id)).rows[1]).toEqual(['Nachteule', '', 'Germany', '2026-12-01']);
  });

  it('sends a forced-post target paper even with an email, and a target gaining an email only what no pack holds', async () => {
    await app();
    await setTargetPostIn(t.services.store, 'IT', { forcePost: true });
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'A', country: 'IT' },
        { name: 'B', country: 'DE' },
      ],
      now,
    );
    expect(await t.services.delivery.plan(true)).toMatchObject({ batches: 0, packs: 2, packSignatures: 2 });
    await setTargetPostIn(t.services.store, 'IT', { forcePost: false });
    await setTargetEmailIn(t.services.store, 'DE', 'de@nato.example');
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'C', country: 'IT' },
        { name: 'D', country: 'DE' },
      ],
      now,
    );
    // Only C and D wait: A and B are in packs already, and the target × signature key keeps them there.
    expect(await t.services.delivery.plan(true)).toMatchObject({ batches: 2, signatures: 2, packs: 0 });
    const all = await batches();
    expect(all.map((b) => [b.channel, b.signature_count])).toEqual([
      ['post', 1],
      ['post', 1],
      ['email', 1],
      ['email', 1],
    ]);
    expect(await t.services.delivery.plan(true)).toMatchObject({ batches: 0, packs: 0 });
  });

  it('makes a pack due by N, by T, or for waiting letters alone after T', async () => {
    await app();
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'A', country: 'DE' },
        { name: 'B', country: 'DE' },
      ],
      now,
    );
    expect(await t.services.delivery.plan()).toMatchObject({ packs: 0 });
    await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'C', country: 'DE' }], now);
    expect(await t.services.delivery.plan()).toMatchObject({ packs: 1, packSignatures: 3 });
    await addPostLetterTo(t.services.store, {
      demand,
      country: 'PL',
      name: 'Jan',
      email: 'jan@example.org',
      confirmedAt: now,
    });
    expect(await t.services.delivery.plan()).toMatchObject({ packs: 0 });
    now += 25 * hour;
    expect(await t.services.delivery.plan()).toMatchObject({ packs: 1, packSignatures: 0, packLetters: 1 });
  });

  it('lets letters join their target’s pack, sends them when it is recorded, and mails each writer once after the undo window', async () => {
    await app();
    await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Ola', country: 'PL' }], now);
    const anna = await addPostLetterTo(t.services.store, {
      demand,
      country: 'PL',
      name: 'Anna Kowalska',
      email: 'anna@example.org',
      town: 'Kraków',
      body: 'Dear delegation, tax fairly.',
      confirmedAt: now,
    });
    await addPostLetterTo(t.services.store, {
      demand,
      country: 'PL',
      name: 'Anna Kowalska',
      email: 'Anna@example.org',
      confirmedAt: now - day,
    });
    await addPostLetterTo(t.services.store, {
      demand,
      country: 'PL',
      name: 'Piotr',
      email: 'piotr@example.org',
      locale: 'fr',
      confirmedAt: now,
    });
    // Another demand's letter travels with that demand's petition, not this one.
    await addPostLetterTo(t.services.store, {
      demand: 'civic-freedoms',
      country: 'PL',
      name: 'Zofia',
      email: 'zofia@example.org',
      confirmedAt: now,
    });
    expect(await t.services.delivery.plan(true)).toMatchObject({ packs: 2, packSignatures: 1, packLetters: 4 });
    const packs = await t.services.packs.list();
    const pack = packs.find((p) => p.petition === slug)!;
    expect(pack).toMatchObject({ signatures: 1, letters: 3 });
    const pdf = await pdfOf(pack.id);
    expect(pdf).toContain('letter: Anna Kowalska | Dear delegation, tax fairly.');
    expect(pdf).not.toContain('Zofia');

    const handIn = { handedInAt: Date.UTC(2026, 10, 30), how: 'post' as const, reference: 'RR123456789BE', note: null };
    expect(await t.services.packs.record(pack.id, handIn, null)).toEqual({ status: 'recorded', letters: 3, mails: 3 });
    expect(await t.services.packs.record(pack.id, handIn, null)).toEqual({ status: 'already' });
    const letter = await t.services.store.first(
      t.services.store.qb.selectFrom('letters').select(['state', 'sent_at']).where('id', '=', anna),
    );
    expect(letter).toEqual({ state: 'sent', sent_at: handIn.handedInAt });
    const counts = await t.services.store.all(
      t.services.store.qb.selectFrom('letter_country_counts').select(['country_code', 'sent']),
    );
    expect(counts).toEqual([{ country_code: 'PL', sent: 3 }]);
    expect(await t.services.packs.find(pack.id)).toMatchObject({
      state: 'sent',
      handedInHow: 'post',
      handedInReference: 'RR123456789BE',
      recordedAt: now,
    });

    // Nothing goes during the undo window…
    now += 23 * hour;
    await t.services.sender.drain();
    expect(t.smtp!.mails).toHaveLength(0);
    // …then each letter's writer gets one mail about it, in their language.
    now += 2 * hour;
    await t.services.sender.drain();
    const mails = await t.smtp!.waitFor(3);
    expect(mails.map((m) => (m.to && 'text' in m.to ? m.to.text.toLowerCase() : '')).sort()).toEqual([
      'anna@example.org',
      'anna@example.org',
      'piotr@example.org',
    ]);
    const toAnna = mails.find((m) => m.subject?.includes('handed in'))!;
    expect(toAnna.text).toContain('Anna Kowalska');
    expect(toAnna.text).toContain('30 November 2026');
    expect(mails.find((m) => m.subject?.includes('remise'))!.text).toContain('30 novembre 2026');
    // Past 24 hours, the record stays.
    expect(await t.services.packs.undo(pack.id)).toEqual({ status: 'tooLate' });
  });

  it('takes a record back within 24 hours: due again, letters ready, counters back, and no mail ever goes', async () => {
    await app();
    await addPostLetterTo(t.services.store, {
      demand,
      country: 'PL',
      name: 'Anna',
      email: 'anna@example.org',
      confirmedAt: now,
    });
    await t.services.delivery.plan(true);
    const [pack] = await t.services.packs.list();
    const handIn = {
      handedInAt: Date.UTC(2026, 11, 1),
      how: 'handed-in' as const,
      reference: null,
      note: 'At the front desk',
    };
    expect(await t.services.packs.record(pack!.id, handIn, null)).toMatchObject({ status: 'recorded', mails: 1 });
    now += 23 * hour;
    expect(await t.services.packs.undo(pack!.id)).toEqual({ status: 'undone', letters: 1 });
    expect(await t.services.packs.undo(pack!.id)).toEqual({ status: 'notRecorded' });
    expect(await t.services.packs.find(pack!.id)).toMatchObject({
      state: 'queued',
      recordedAt: null,
      handedInAt: null,
    });
    expect(await t.services.store.all(t.services.store.qb.selectFrom('letters').select(['state', 'sent_at']))).toEqual([
      { state: 'ready', sent_at: null },
    ]);
    expect(await t.services.store.all(t.services.store.qb.selectFrom('letter_country_counts').select('sent'))).toEqual([
      { sent: 0 },
    ]);
    expect((await outboxKinds()).filter((o) => o.kind === 'letter_handed_in')).toEqual([]);
    now += 2 * day;
    await t.services.sender.drain();
    expect(t.smtp!.mails).toHaveLength(0);
    // Recorded again, it mails once its own window has passed.
    expect(await t.services.packs.record(pack!.id, handIn, null)).toMatchObject({ status: 'recorded', letters: 1 });
    now += 25 * hour;
    await t.services.sender.drain();
    expect(await t.smtp!.waitFor(1)).toHaveLength(1);
  });

  it('leaves an erased person out of a pack not yet recorded: signature, letter, CSV and checksum', async () => {
    await app();
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'Stays', country: 'DE', email: 'stays@example.org' },
        { name: 'Erased Person', country: 'DE', email: 'erase.me@example.org' },
      ],
      now,
    );
    await addPostLetterTo(t.services.store, {
      demand,
      country: 'DE',
      name: 'Erased Person',
      email: 'erase.me@example.org',
      confirmedAt: now,
    });
    await t.services.delivery.plan(true);
    const [pack] = await t.services.packs.list();
    const before = await csvOf(pack!.id);
    // The signature, then the letter (with its text's SHA-256).
    expect(before.rows.map((r) => r[0])).toEqual(['name', 'Stays', 'Erased Person', 'Erased Person']);
    expect(before.rows[0]).toEqual(['name', 'postcode_or_town', 'country', 'date_signed', 'letter_sha256']);
    expect(before.rows[3]![4]).toMatch(/^[0-9a-f]{64}$/);
    await t.services.admin.erasure.erase('erase.me@example.org');
    const after = await csvOf(pack!.id);
    expect(after.rows.map((r) => r[0])).toEqual(['name', 'Stays']);
    expect(after.sha).not.toBe(before.sha);
    const pdf = await pdfOf(pack!.id);
    expect(pdf).toContain('signer: Stays');
    expect(pdf).not.toContain('Erased');
    expect((await t.services.packs.document(pack!.id))!.totals).toMatchObject({ thisPack: 1, letters: 0 });
  });
});
