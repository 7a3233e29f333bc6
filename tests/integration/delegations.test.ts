import { insertBatch } from '../helpers/batches';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';

/** The rows of a page's deliveries table, as text per cell. */
function rows(html: string): string[][] {
  const body = /<table class="deliveries-table">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]!
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

describe('GET /delegations/:code', () => {
  let t: TestApp;
  let packSha: string;

  beforeAll(async () => {
    const now = Date.UTC(2026, 11, 1, 12);
    t = await createTestApp({ smtp: false, clock: () => now });
    const [de1, de2, pl1] = await addValidatedSignaturesTo(
      t.services.store,
      'fund-defence-fairly',
      [
        { name: 'Dörte', country: 'DE' },
        { name: 'Klaus', country: 'DE' },
        { name: 'Jan', country: 'PL' },
      ],
      Date.UTC(2026, 8, 1),
    );
    const [de3] = await addValidatedSignaturesTo(
      t.services.store,
      'halt-unlawful-arms-transfers',
      [{ name: 'Heike', country: 'DE' }],
      Date.UTC(2026, 8, 1),
    );
    packSha = (
      await insertBatch(t.services.store, {
        petitionSlug: 'fund-defence-fairly',
        country: 'DE',
        channel: 'post',
        signatureIds: [de1!, de2!],
        letterCount: 3,
        createdAt: Date.UTC(2026, 10, 20),
        sentAt: Date.UTC(2026, 10, 30, 15),
        handedInAt: Date.UTC(2026, 10, 30),
      })
    ).sha!;
    await insertBatch(t.services.store, {
      petitionSlug: 'halt-unlawful-arms-transfers',
      country: 'DE',
      channel: 'email',
      signatureIds: [de3!],
      createdAt: Date.UTC(2026, 9, 1),
      sentAt: Date.UTC(2026, 9, 1, 10),
    });
    // Poland's delivery and an undelivered German batch are not on Germany's page.
    await insertBatch(t.services.store, {
      petitionSlug: 'fund-defence-fairly',
      country: 'PL',
      channel: 'email',
      signatureIds: [pl1!],
      sentAt: Date.UTC(2026, 9, 5),
    });
    await insertBatch(t.services.store, {
      petitionSlug: 'halt-unlawful-arms-transfers',
      country: 'DE',
      channel: 'post',
      state: 'queued',
      signatureIds: [],
      sentAt: null,
    });
    const targetId = (await t.services.targets.forCountry('DE')).find((x) => x.isDefault)!.id;
    const answer = (about: string, receivedOn: string, body: string, isPublic = true) =>
      t.services.responses.save(
        undefined,
        { target: String(targetId), about, receivedOn, channel: 'meeting', body, link: '', isPublic },
        null,
        'en',
      );
    await answer('petition:fund-defence-fairly', '2026-11-28', 'We met the organisers.');
    await answer('demand:keep-weapons-bans', '2026-11-29', 'Germany stays in both conventions.');
    await answer('demand:keep-weapons-bans', '2026-11-29', 'Internal note', false);
  });
  afterAll(() => t.close());

  it('shows the delegation, its address and channel, what it received and what it answered, newest first', async () => {
    const res = await t.agent().get('/delegations/de').expect(200);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toContain(`<h1>${germany}</h1>`);
    expect(res.text).toContain('NATO Headquarters<br>Boulevard Léopold III<br>1110 Brussels<br>Belgium');
    expect(res.text).toContain('By post or hand-in pack'); // Germany's delegation has no email address
    expect(rows(res.text)).toEqual([
      [
        'NATO governments: fund defence fairly, not through austerity',
        '30 November 2026',
        'By post or hand-in',
        '2',
        '3',
        packSha.slice(0, 12),
      ],
      [expect.stringMatching(/arms/i), '1 October 2026', 'By email', '1', '0', expect.any(String)],
    ]);
    expect(res.text).toContain('href="/petitions/fund-defence-fairly"');
    expect(res.text).toContain(`href="/verify/${packSha.slice(0, 12)}"`);
    for (const name of ['Dörte', 'Klaus', 'Heike', 'Jan']) expect(res.text).not.toContain(name);

    const answers = /<section class="responses"[\s\S]*?<\/section>/.exec(res.text)![0];
    expect(answers.indexOf('Germany stays in both conventions.')).toBeLessThan(
      answers.indexOf('We met the organisers.'),
    );
    expect(answers).toContain('29 November 2026</time> · In a meeting · About: <a href="/demands/keep-weapons-bans">');
    expect(answers).not.toContain('Internal note');
  });

  it('speaks French', async () => {
    const res = await t.agent().get('/delegations/de?lang=fr').expect(200);
    expect(res.text).toContain('Ce qui lui a été remis');
    expect(res.text).toContain('30 novembre 2026');
    expect(res.text).toContain('Lors d’une rencontre');
  });

  it('is linked from the deliveries and responses of the petition page', async () => {
    const page = await t.agent().get('/petitions/fund-defence-fairly').expect(200);
    const deliveries = /<section class="deliveries"[\s\S]*?<\/section>/.exec(page.text)![0];
    expect(deliveries).toContain(`<a href="/delegations/de">${germany}</a>`);
    expect(deliveries).toContain('<a href="/delegations/pl">');
    const responses = /<section class="responses"[\s\S]*?<\/section>/.exec(page.text)![0];
    expect(responses).toContain(`<a href="/delegations/de">${germany}</a>`);
  });

  it('answers an upper-case code with its lower-case address', async () => {
    const res = await t.agent().get('/delegations/DE').expect(301);
    expect(res.headers.location).toBe('/delegations/de');
  });

  it.each(['xx', 'ch', 'deu', '1'])('answers %s with a clear 404 page', async (code) => {
    const res = await t.agent().get(`/delegations/${code}`).expect(404);
    expect(res.text).toContain('No such delegation');
    expect(res.text).toContain('/delegations/de for Germany');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('shows a delegation that has received nothing yet', async () => {
    const res = await t.agent().get('/delegations/it').expect(200);
    expect(res.text).toContain('Nothing has been delivered to this delegation yet.');
    expect(res.text).toContain('No delegation has answered yet.');
  });
});
