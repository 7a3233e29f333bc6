import { PassThrough } from 'node:stream';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { addPostLetterTo, fakePdf } from '../helpers/packs';
import { createTestApp, type TestApp } from '../helpers/testApp';

/**
 * README, "Hand-in packs": a pack's SHA-256 "as last downloaded, is
 * stored on the batch and kept with the record (so it matches the printed pack)", and the pack prints
 * BASE_URL/verify/<first 12>. Recording a pack must not replace the checksum printed on it.
 */
describe('the checksum printed on a pack survives its record', () => {
  let t: TestApp;
  const now = Date.UTC(2026, 11, 1, 9);
  afterEach(() => t?.close());

  it('keeps the downloaded SHA-256 when a signer is erased between printing and recording', async () => {
    t = await createTestApp({
      env: { DIGEST_SIZE: '3', DIGEST_HOURS: '24' },
      clock: () => now,
      renderPackPdf: fakePdf,
    });
    await addValidatedSignaturesTo(
      t.services.store,
      'fund-defence-fairly',
      [
        { name: 'Stays', country: 'DE', email: 'stays@example.org' },
        { name: 'Later Erased', country: 'DE', email: 'later.erased@example.org' },
      ],
      now,
    );
    await t.services.delivery.plan(true);
    const [pack] = await t.services.packs.list();
    // The organiser downloads (prints) the pack: this checksum and its short address are on the paper.
    const out = new PassThrough();
    out.resume();
    const printed = (await t.services.packs.writeCsv(pack!.id, out))!;
    out.end();
    expect((await t.agent().get(`/verify/${printed.slice(0, 12)}`)).status).toBe(200);

    // A person asks to be erased; the paper pack is handed in as printed, then recorded.
    await t.services.admin.erasure.erase('later.erased@example.org');
    const handIn = { handedInAt: Date.UTC(2026, 10, 30), how: 'post' as const, reference: null, note: null };
    expect(await t.services.packs.record(pack!.id, handIn, null)).toMatchObject({ status: 'recorded' });

    // The address printed on every page of the pack must still find it.
    const recorded = await t.services.packs.find(pack!.id);
    expect(recorded!.csvSha256).toBe(printed);
    expect((await t.agent().get(`/verify/${printed.slice(0, 12)}`)).status).toBe(200);
  });

  it('gives packs of letters only checksums of their own, which vouch for the letters', async () => {
    t = await createTestApp({ clock: () => now, renderPackPdf: fakePdf });
    for (const [country, name] of [
      ['DE', 'Greta'],
      ['FR', 'Rémi'],
    ] as const) {
      await addPostLetterTo(t.services.store, {
        demand: 'progressive-taxation',
        country,
        name,
        email: `${name.toLowerCase()}@example.org`,
        confirmedAt: now,
      });
    }
    await t.services.delivery.plan(true);
    const shas: string[] = [];
    for (const pack of await t.services.packs.list()) {
      const out = new PassThrough();
      out.resume();
      shas.push((await t.services.packs.writeCsv(pack.id, out))!);
      out.end();
    }
    expect(shas).toHaveLength(2);
    expect(new Set(shas).size).toBe(2);
    for (const sha of shas) expect((await t.agent().get(`/verify/${sha.slice(0, 12)}`)).status).toBe(200);
  });
});
