import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { letterDemand, writeLetter } from '../helpers/letters';
import { confirm, confirmPath, countOn, createTestApp, sign, type TestApp } from '../helpers/testApp';
import { postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';

const engine = postgresUrl ? 'PostgreSQL' : 'SQLite';
const slug = 'protect-civil-society';
const italy = 'rappnat.mail@esteri.it';
const sentTo = (m: ParsedMail) => (m.to && 'text' in m.to ? m.to.text : '');

/**
 * Every journey end to end through HTTP and the services, touching no database handle: under
 * `npm run test:pg` the app runs on PostgreSQL (DATABASE_URL), otherwise on its SQLite file.
 */
describe(`every journey on ${engine}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { DIGEST_SIZE: '2', DIGEST_HOURS: '24' } });
  });
  afterAll(async () => t.close());

  async function mailTo(address: string, subject?: RegExp): Promise<ParsedMail> {
    const match = (m: ParsedMail) => sentTo(m) === address && (!subject || subject.test(m.subject ?? ''));
    await until(() => t.smtp!.mails.some(match), `a mail to ${address}`, 10_000);
    return t.smtp!.mails.filter(match).at(-1)!;
  }

  it('signs, confirms by mail, and counts', async () => {
    const before = await countOn(t.agent(), slug);
    const signers: Array<[string, string]> = [
      ['Giulia Rossi', 'giulia@example.org'],
      ['Marco Bianchi', 'marco@example.org'],
    ];
    for (const [name, email] of signers) {
      const agent = t.agent();
      const res = await sign(agent, slug, { name, email, country: 'IT', postcode: '00184' });
      expect(res.status).toBe(303);
      const mail = await mailTo(email);
      expect((await confirm(agent, confirmPath(mail.text))).status).toBe(303);
    }
    expect(await countOn(t.agent(), slug)).toBe(before + 2);
  });

  it('writes a letter to the Italian delegation, confirms it, and sends it', async () => {
    await writeLetter(t, {
      country: 'IT',
      name: 'Ada Lovelace',
      email: 'ada@example.org',
      town: 'London',
      ownWords: 'My mother waited two years for an operation in a public hospital.',
      lang: 'auto',
    });
    const letter = await mailTo(italy, /./);
    expect(letter.text).toContain('My mother waited two years');
    // The demand's page reads the per-country counter the sent letter bumped.
    await t.agent().get(`/demands/${letterDemand}`).expect(200);
  });

  it('sends a letter confirmed several times at the same moment once', async () => {
    const email = 'twice@example.org';
    await writeLetter(
      t,
      {
        country: 'IT',
        name: 'Grace Hopper',
        email,
        town: 'Arlington',
        ownWords: 'Our school lost its library.',
        lang: 'auto',
      },
      { confirm: false },
    );
    const mail = await mailTo(email, /^Confirm/);
    const link = /http:\/\/localhost:3000\/letters\/(\d+\.[\w-]{27})\/confirm/.exec(mail.text ?? '')![1]!;
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => t.services.letters.confirm(link)));
    expect(outcomes.filter((o) => o.status === 'done')).not.toHaveLength(0);
    const queued = await t.services.store.all(
      sql<{
        id: number;
      }>`SELECT id FROM outbox WHERE kind = 'letter' AND params LIKE ${`%"letterId":${link.split('.')[0]}%`}`,
    );
    expect(queued).toHaveLength(1);
  });

  it('delivers the signatures to the delegation in a digest', async () => {
    const planned = await t.services.delivery.plan();
    expect(planned).toMatchObject({ batches: 1, signatures: 2 });
    // As the scheduler does after planning: the sender is woken to send the digest now.
    t.services.sender.wake();
    const digest = await mailTo(italy, /2 new signatures$/);
    expect(digest.attachments[0]!.content.toString()).toContain('Giulia Rossi');
    await until(async () => (await t.services.delivery.status())[0]?.state === 'sent', 'the batch marked sent');
  });

  it('lets an organiser log in, find a signer, export, and erase them', async () => {
    await createAccount(t.services, 'organiser@example.org', 'organiser');
    const organiser = t.agent();
    expect((await login(organiser, 'organiser@example.org')).status).toBe(303);
    await organiser.get('/admin').expect(200);
    expect((await organiser.get('/admin/petitions').expect(200)).text).toContain(slug);
    const found = await organiser.get('/admin/signatures?q=giulia').expect(200);
    expect(found.text).toContain('Giulia Rossi');
    const csv = await organiser.get(`/admin/exports/signatures.csv?petition=${slug}`).buffer(true).expect(200);
    expect(csv.text).toContain('giulia@example.org');
    expect(csv.text).toContain('marco@example.org');

    // Values PostgreSQL cannot store or compare (a NUL byte, a number beyond BIGINT) are bad requests.
    for (const path of [
      '/admin/signatures?q=%00',
      '/admin/targets/99999999999999999999/edit',
      '/admin/petitions/%00/edit',
    ]) {
      const res = await organiser.get(path);
      expect(res.status).toBeLessThan(500);
    }
    for (const path of ['/petitions/%00', '/demands/%00/letters/new']) {
      expect((await t.agent().get(path)).status).toBeLessThan(500);
    }

    const erased = await organiser
      .post('/admin/signatures/erase')
      .type('form')
      .send({ _csrf: await consoleToken(organiser), email: 'giulia@example.org' });
    expect(erased.status).toBe(303);
    const after = await organiser.get('/admin/signatures?q=giulia').expect(200);
    expect(after.text).not.toContain('Giulia Rossi');
    const audit = await organiser.get('/admin/audit');
    expect([200, 403]).toContain(audit.status); // the audit page is for admins
    const entries = await t.services.admin.audit.list({ limit: 10 });
    expect(entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['login', 'signatures.export', 'person.erase']),
    );
  });
});
