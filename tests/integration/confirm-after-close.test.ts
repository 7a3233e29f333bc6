import { aSigner, confirm, confirmPath, createTestApp, sameOrigin, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const hour = 60 * 60 * 1000;
// 24 June 2026, 23:59 in Brussels (summer time, UTC+2).
const closesAt = Date.UTC(2026, 5, 24, 21, 59);

/**
 * A signature made before its petition closed may be confirmed for a day after (its mail may have
 * gone out minutes before the closing time); after that the count is final and the link says so.
 */
describe('confirming a signature after its petition closed', () => {
  let t: TestApp;
  let now: number;
  beforeEach(async () => {
    now = closesAt - hour;
    t = await createTestApp({ clock: () => now });
    await t.services.petitions.setClosesAt(slug, closesAt);
  });
  afterEach(() => t.close());

  const state = async (email: string) =>
    (
      await t.services.store.first(
        t.services.store.qb.selectFrom('signatures').select('state').where('email', '=', email),
      )
    )?.state;
  const count = async () => {
    const res = await t.agent().get(`/petitions/${slug}.json`).set('Cache-Control', 'no-cache').expect(200);
    return res.body.count as number;
  };

  /** Signs before the closing time and answers the link from the mail. */
  async function signBeforeClosing(email: string): Promise<string> {
    expect((await sign(t.agent(), slug, { ...aSigner, email })).status).toBe(303);
    const mails = await t.smtp!.waitFor(1);
    return confirmPath(
      mails.find((m) => m.text?.includes('/confirm') && m.to && 'text' in m.to && m.to.text === email)!.text,
    );
  }

  it('says in the mail until when the link works, when the closing date ends it sooner', async () => {
    await signBeforeClosing('told@example.org');
    const [mail] = await t.smtp!.waitFor(1);
    expect(mail!.text).toContain(
      'The link works until 25 June 2026 at 23:59 (Brussels time), a day after the petition closes.',
    );
    expect(mail!.html).toContain('The link works until 25 June 2026 at 23:59 (Brussels time)');
    expect(mail!.text).not.toContain('30 days');
    const french = t.agent();
    await french.get(`/petitions/${slug}?lang=fr`).expect(200);
    await french
      .post(`/petitions/${slug}/signatures`)
      .set(sameOrigin)
      .type('form')
      .send({ ...aSigner, email: 'fr@example.org' });
    const mails = await t.smtp!.waitFor(2);
    expect(mails[1]!.text).toContain("Ce lien est valable jusqu'au 25 juin 2026 à 23:59 (heure de Bruxelles)");
    // Without a closing date, the link's own 30 days.
    await t.services.petitions.setClosesAt(slug, null);
    await sign(t.agent(), slug, { ...aSigner, email: 'open@example.org' });
    expect((await t.smtp!.waitFor(3))[2]!.text).toContain('The link works for 30 days.');
  });

  it('counts a signature confirmed within a day of the closing time', async () => {
    const link = await signBeforeClosing('in-time@example.org');
    now = closesAt + 23 * hour;
    const res = await confirm(t.agent(), link);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^/petitions/${slug}/thanks`));
    expect(await state('in-time@example.org')).toBe('validated');
    now += hour; // past the count's refresh interval
    expect(await count()).toBe(1);
  });

  it('refuses it a day after, with a page that says when the petition closed and until when it could be confirmed', async () => {
    const link = await signBeforeClosing('late@example.org');
    now = closesAt + 24 * hour + 1;
    expect(await count()).toBe(0);

    const page = await t.agent().get(link);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This petition closed before you confirmed');
    expect(page.text).toContain('closed on 24 June 2026 at 23:59 (Brussels time)');
    expect(page.text).toContain('could be confirmed until 25 June 2026 at 23:59, so yours was not counted');
    expect(page.text).not.toContain('name="_csrf"'); // no Confirm button
    expect(page.text).toContain(`href="/petitions/${slug}"`);

    const pressed = await t.agent().post(link).set(sameOrigin).type('form').send({});
    expect(pressed.status).toBe(410);
    expect(pressed.text).toContain('This petition closed before you confirmed');
    expect(await state('late@example.org')).toBe('pending');
    expect(await count()).toBe(0);

    const french = await t.agent().get(link).set('Accept-Language', 'fr');
    expect(french.status).toBe(410);
    expect(french.text).toContain('Cette pétition a été close avant votre confirmation');
    expect(french.text).toContain('jusqu&#x27;au 25 juin 2026 à 23:59'); // the apostrophe, escaped
  });

  it('judges a petition closed by hand from the time it was closed, and lets its links work again once re-opened', async () => {
    const link = await signBeforeClosing('by-hand@example.org');
    now = closesAt - 30 * 60 * 1000; // closed by hand half an hour before its date, which stays set
    await t.services.petitions.setState(slug, 'closed');
    now += 24 * hour - 1;
    expect((await t.agent().get(link)).status).toBe(200);
    now += 2;
    expect((await t.agent().get(link)).status).toBe(410);
    expect((await t.agent().post(link).set(sameOrigin).type('form').send({})).status).toBe(410);
    expect(await state('by-hand@example.org')).toBe('pending');
    // Re-opened (its closing time, now past, is cleared): the link confirms again.
    await t.services.petitions.setState(slug, 'open');
    expect((await confirm(t.agent(), link)).status).toBe(303);
    expect(await state('by-hand@example.org')).toBe('validated');
  });

  it('does not ask to sign again when the link expired and the petition has closed since', async () => {
    const link = await signBeforeClosing('expired@example.org');
    // 30 days for a link (CONFIRMATION_TTL_DAYS): expired before the petition closed a day ago.
    await t.services.petitions.setClosesAt(slug, closesAt + 40 * 24 * hour);
    now = closesAt + 41 * 24 * hour - hour;
    const page = await t.agent().get(link);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This petition closed before you confirmed');
    expect(page.text).toContain('Your confirmation link had already expired on 24 July 2026 at 22:59');
    expect(page.text).not.toContain('could be confirmed until');
    expect(page.text).not.toContain('Sign the petition again');
  });

  it('still shows a signature confirmed in time as confirmed, whenever its link is opened again', async () => {
    const link = await signBeforeClosing('receipt@example.org');
    await confirm(t.agent(), link);
    now = closesAt + 10 * 24 * hour;
    const again = await t.agent().get(link);
    expect(again.status).toBe(200);
    expect(again.text).not.toContain('This petition closed before you confirmed');
  });
});
