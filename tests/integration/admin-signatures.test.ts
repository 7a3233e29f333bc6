import { sendUpdate } from '../helpers/factories';
import type TestAgent from 'supertest/lib/agent';
import { sql } from 'kysely';
import type { Executor } from '../../server/db/store';
import { tablesOf, tracesOf } from '../helpers/traces';
import { consoleToken, createAccount, login, seedSignatures } from '../helpers/admin';
import { confirm, confirmPath, countOn, createTestApp, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const other = 'protect-civil-society';

async function petitionId(db: Executor, petition: string): Promise<number> {
  return (await db.first(db.qb.selectFrom('petitions').select('id').where('slug', '=', petition)))!.id;
}

async function counters(db: Executor, petition: string) {
  const id = await petitionId(db, petition);
  const total = await db.first(db.qb.selectFrom('petition_counts').select('validated').where('petition_id', '=', id));
  const byCountry = await db.all(
    db.qb
      .selectFrom('petition_country_counts')
      .select(['country_code as c', 'validated as n'])
      .where('petition_id', '=', id)
      .where('validated', '>', 0),
  );
  return { total: total!.validated, byCountry: Object.fromEntries(byCountry.map((r) => [r.c, r.n])) };
}

/** The counters recomputed from the rows: what they must always equal. */
async function truth(db: Executor, petition: string) {
  const id = await petitionId(db, petition);
  const rows = await db.all(
    sql<{ c: string; n: number }>`SELECT country_code AS c, count(*) AS n FROM signatures
      WHERE petition_id = ${id} AND state = 'validated' GROUP BY country_code`,
  );
  return { total: rows.reduce((s, r) => s + r.n, 0), byCountry: Object.fromEntries(rows.map((r) => [r.c, r.n])) };
}

/** The details of the first audit entry of this action. */
async function auditDetails(db: Executor, action: string): Promise<string> {
  return (await db.first(db.qb.selectFrom('audit_log').select('details').where('action', '=', action).orderBy('id')))!
    .details;
}

describe('signatures in the console', () => {
  let t: TestApp;
  let organiser: TestAgent;
  let token: string;

  beforeEach(async () => {
    t = await createTestApp({ env: { SIGN_LIMIT_PER_MINUTE: '100', SIGN_LIMIT_PER_5_MINUTES: '100' } });
    await createAccount(t.services, 'org@example.org', 'organiser');
    organiser = t.agent();
    await login(organiser, 'org@example.org');
    token = await consoleToken(organiser);
  });
  afterEach(() => t.close());

  /** Signs and confirms through the public pages, as a person would. */
  async function signAndConfirm(name: string, email: string, country: string, petition = slug, postcode = '') {
    const agent = t.agent();
    const before = t.smtp!.mails.length;
    expect((await sign(agent, petition, { name, email, country, postcode })).status).toBe(303);
    const mails = (await t.smtp!.waitFor(before + 1)).slice(before);
    const mail = mails.find((m) => (m.to as { text: string }).text.toLowerCase() === email.toLowerCase())!;
    expect((await confirm(agent, confirmPath(mail.text))).status).toBe(303);
  }

  describe('GET /admin/signatures', () => {
    it('finds signatures by email (canonical or as typed), by part of a name, or by postcode', async () => {
      await seedSignatures(t.services, [
        { petition: slug, name: 'Ada Lovelace', email: 'ada.lovelace@gmail.com', postcode: 'N1 9GU' },
        { petition: slug, name: 'Grace Hopper', email: 'grace@example.org', postcode: '10001' },
      ]);
      const byEmail = await organiser.get('/admin/signatures?q=AdaLovelace%2Bpetitions@googlemail.com').expect(200);
      expect(byEmail.text).toContain('ada.lovelace@gmail.com');
      expect(byEmail.text).not.toContain('grace@example.org');
      expect(byEmail.text).toContain('1 signature found');
      const byName = await organiser.get('/admin/signatures?q=hopp').expect(200);
      expect(byName.text).toContain('grace@example.org');
      expect(byName.text).not.toContain('ada.lovelace');
      const byPostcode = await organiser.get('/admin/signatures?q=n1%209gu').expect(200);
      expect(byPostcode.text).toContain('ada.lovelace@gmail.com');
      const none = await organiser.get('/admin/signatures?q=%25').expect(200);
      expect(none.text).toContain('0 signatures found');
    });
  });

  describe('bulk invalidation', () => {
    it('shows the count first, changes nothing until confirmed, then recounts — and the public count drops', async () => {
      await signAndConfirm('Real Person', 'real@example.org', 'FR');
      await signAndConfirm('Spam One', 'one@spam.example', 'FR');
      await signAndConfirm('Spam Two', 'two@spam.example', 'DE');
      await seedSignatures(t.services, [
        { petition: slug, email: 'three@spam.example', country: 'DE', state: 'pending' },
        { petition: slug, email: 'four@spam.example', country: 'DE', state: 'fraudulent' },
        { petition: other, email: 'five@spam.example', country: 'DE' },
      ]);
      expect(await countOn(t.agent(), slug)).toBe(3);

      const preview = await organiser
        .get(`/admin/signatures/invalidate?preview=1&petition=${slug}&domain=spam.example`)
        .expect(200);
      expect(preview.text).toContain('Signatures that would be invalidated: 3');
      expect(preview.text).toContain('2 validated and 1 pending, on 1 petition(s).');
      expect(preview.text).toContain('Invalidate 3 signatures');
      expect(await countOn(t.agent(), slug)).toBe(3); // a preview changes nothing

      const done = await organiser
        .post('/admin/signatures/invalidate')
        .type('form')
        .send({ _csrf: token, petition: slug, domain: 'spam.example' });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/admin/signatures/invalidate?notice=invalidated&n=3');
      const page = await organiser.get(done.headers.location!).expect(200);
      expect(page.text).toContain('Signatures invalidated: 3');

      expect(await counters(t.services.store, slug)).toEqual({ total: 1, byCountry: { FR: 1 } });
      expect(await counters(t.services.store, slug)).toEqual(await truth(t.services.store, slug));
      expect(await countOn(t.agent(), slug)).toBe(1);
      const publicPage = await t.agent().get(`/petitions/${slug}`).expect(200);
      expect(publicPage.text).toContain('1 signature');
      // Not touched: the other petition, and the row already marked fraudulent.
      expect((await counters(t.services.store, other)).total).toBe(1);
      const states = await t.services.store.all(
        t.services.store.qb
          .selectFrom('signatures')
          .select(['email', 'state', 'invalidated_at'])
          .where('email', 'like', '%spam.example')
          .orderBy('email'),
      );
      expect(states.map((s) => [s.email, s.state])).toEqual([
        ['five@spam.example', 'validated'],
        ['four@spam.example', 'fraudulent'],
        ['one@spam.example', 'invalidated'],
        ['three@spam.example', 'invalidated'],
        ['two@spam.example', 'invalidated'],
      ]);
      expect(states.filter((s) => s.state === 'invalidated').every((s) => s.invalidated_at! > 0)).toBe(true);
      const audit = await auditDetails(t.services.store, 'signatures.invalidate');
      expect(JSON.parse(audit)).toMatchObject({ invalidated: 3, criteria: { domain: 'spam.example' } });
    });

    it('matches by IP address, email, postcode and dates, all given criteria at once', async () => {
      const jan = (d: number) => Date.parse(`2026-01-${String(d).padStart(2, '0')}T12:00:00Z`);
      await seedSignatures(t.services, [
        { petition: slug, email: 'a@example.org', ip: '203.0.113.7', createdAt: jan(5) },
        { petition: slug, email: 'b@example.org', ip: '::ffff:203.0.113.7', createdAt: jan(6) },
        { petition: slug, email: 'c@example.org', ip: '203.0.113.8', createdAt: jan(6) },
        { petition: slug, email: 'd.d@gmail.com', postcode: 'SW1A 1AA', createdAt: jan(20) },
        { petition: slug, email: 'e@example.org', postcode: 'SW1A 1AA', createdAt: jan(25) },
      ]);
      const count = async (query: string) => {
        const res = await organiser.get(`/admin/signatures/invalidate?preview=1&${query}`).expect(200);
        return Number(/Signatures that would be invalidated: (\d+)/.exec(res.text)![1]);
      };
      expect(await count('ip=203.0.113.7')).toBe(2);
      expect(await count('ip=203.0.113.7&from=2026-01-06&to=2026-01-06')).toBe(1);
      expect(await count('email=D.D%2Bx@googlemail.com')).toBe(1);
      expect(await count('postcode=sw1a%201aa')).toBe(2);
      expect(await count('postcode=SW1A%201AA&to=2026-01-20')).toBe(1);
      expect(await count(`petition=${other}&postcode=SW1A%201AA`)).toBe(0);

      const refused = await organiser.get('/admin/signatures/invalidate?preview=1').expect(400);
      expect(refused.text).toContain('Enter at least one thing to match');
      const bad = await organiser.get('/admin/signatures/invalidate?preview=1&ip=300.1.1.1&from=yesterday').expect(400);
      expect(bad.text).toContain('Enter an IP address like 203.0.113.7');
      expect(bad.text).toContain('Enter a date like 2026-03-31');
      await organiser.post('/admin/signatures/invalidate').type('form').send({ _csrf: token }).expect(400);
      expect((await counters(t.services.store, slug)).total).toBe(5);

      await organiser
        .post('/admin/signatures/invalidate')
        .type('form')
        .send({ _csrf: token, ip: '203.0.113.7' })
        .expect(303);
      expect(await counters(t.services.store, slug)).toEqual({ total: 3, byCountry: { FR: 3 } });
      // Signatures keep IP addresses only as an HMAC; the audit log does the same.
      const logged = await auditDetails(t.services.store, 'signatures.invalidate');
      expect(logged).not.toContain('203.0.113.7');
      expect(JSON.parse(logged)).toMatchObject({
        invalidated: 2,
        criteria: { ip: expect.stringMatching(/^[\w-]{22}$/) },
      });
    });
  });

  describe('erasure by email', () => {
    it('leaves no trace of the person in any table, and their validated signatures stop counting', async () => {
      const name = 'Marguerite Yourcenar-Trace';
      const email = 'Marguerite.Trace@Example.org';
      await signAndConfirm(name, email, 'BE', slug, 'B-1000');
      await signAndConfirm(name, email, 'BE', other);
      await signAndConfirm('Someone Else', 'else@example.org', 'BE');
      // Traces in other tables: a campaign update queued to them, organiser searches, an invalidation.
      await sendUpdate(t.services, 1, { subject: 'News', message: 'Hello' });
      await organiser.get(`/admin/signatures?q=${encodeURIComponent(email)}`).expect(200);
      await organiser.get(`/admin/signatures?q=${encodeURIComponent('Yourcenar')}`).expect(200);
      await organiser
        .post('/admin/signatures/invalidate')
        .type('form')
        .send({ _csrf: token, email: 'marguerite.trace@example.org', from: '2020-01-01', to: '2020-01-02' })
        .expect(303);
      expect(await countOn(t.agent(), slug)).toBe(2);

      const preview = await organiser.get(`/admin/signatures/erase?email=${encodeURIComponent(email)}`).expect(200);
      expect(preview.text).toContain('2 signatures with this address.');
      await t.services.sender.idle();

      const res = await organiser.post('/admin/signatures/erase').type('form').send({ _csrf: token, email });
      expect(res.status).toBe(303);
      expect((await organiser.get(res.headers.location!).expect(200)).text).toContain('Erased: 2 signatures');

      const db = t.services.store;
      const tables = await tablesOf(db);
      const traces = await tracesOf(t.services.store, [email, 'margueritetrace@example.org', name, 'yourcenar']);
      expect(traces).toEqual([]);
      expect(tables).toEqual(expect.arrayContaining(['signatures', 'outbox', 'audit_log', 'sessions']));

      expect(await countOn(t.agent(), slug)).toBe(1);
      expect(await countOn(t.agent(), other)).toBe(0);
      expect(await counters(db, slug)).toEqual(await truth(db, slug));
      expect(await counters(db, other)).toEqual(await truth(db, other));
      // Nobody else's data went with it.
      expect(await db.first(sql`SELECT count(*) AS n FROM signatures WHERE email = 'else@example.org'`)).toEqual({
        n: 1,
      });
      const entry = await auditDetails(db, 'person.erase');
      expect(JSON.parse(entry)).toEqual({
        rows: { outbox: expect.any(Number) as unknown, audit_log: 4, letters: 0, signatures: 2 },
      });
    });
  });
});

describe('retention', () => {
  async function closeAndRun(t: TestApp) {
    await seedSignatures(t.services, [
      {
        petition: slug,
        name: 'Old Signer',
        email: 'old@example.org',
        country: 'IT',
        postcode: '00100',
        ip: '198.51.100.1',
      },
      { petition: other, name: 'Open Signer', email: 'open@example.org', country: 'IT' },
    ]);
    await createAccount(t.services, 'org@example.org', 'organiser');
    const agent = t.agent();
    await login(agent, 'org@example.org');
    const token = await consoleToken(agent);
    await agent
      .post(`/admin/petitions/${slug}/state`)
      .type('form')
      .send({ _csrf: token, state: 'closed', confirm: 'yes' })
      .expect(303);
    const res = await agent.post('/admin/signatures/retention').type('form').send({ _csrf: token });
    expect(res.status).toBe(303);
    return { agent, location: res.headers.location! };
  }

  it('anonymises the signatures of petitions closed longer ago than RETENTION_DAYS, keeping the counts', async () => {
    const t = await createTestApp({ smtp: false, env: { RETENTION_DAYS: '0' } });
    try {
      const { agent, location } = await closeAndRun(t);
      expect(location).toBe('/admin/signatures?notice=retentionRun&n=1');
      expect((await agent.get(location).expect(200)).text).toContain('Signatures anonymised: 1.');
      const rows = await t.services.store.all(
        t.services.store.qb
          .selectFrom('signatures')
          .select(['name', 'email', 'email_canonical', 'postcode', 'ip_hash', 'state', 'country_code', 'anonymised_at'])
          .orderBy('id'),
      );
      expect(rows[0]).toMatchObject({
        name: '',
        email: '',
        postcode: null,
        ip_hash: null,
        state: 'validated',
        country_code: 'IT',
      });
      expect(rows[0]!.email_canonical).toMatch(/^anonymised:\d+$/);
      expect(rows[0]!.anonymised_at).toEqual(expect.any(Number));
      expect(rows[1]).toMatchObject({ name: 'Open Signer', email: 'open@example.org', anonymised_at: null });
      expect(await countOn(t.agent(), slug)).toBe(1);
      const entry = await auditDetails(t.services.store, 'retention.run');
      expect(JSON.parse(entry)).toEqual({
        anonymised: 1,
        daysAfterClose: 0,
        lettersAnonymised: 0,
        letterDays: 365,
        mailDeleted: 0,
        mailDays: 30,
      });
    } finally {
      await t.close();
    }
  });

  it('leaves them alone before the configured time (365 days by default)', async () => {
    const t = await createTestApp({ smtp: false });
    try {
      const { location } = await closeAndRun(t);
      expect(location).toBe('/admin/signatures?notice=retentionRun&n=0');
      expect(
        await t.services.store.first(sql`SELECT count(*) AS n FROM signatures WHERE email = 'old@example.org'`),
      ).toEqual({ n: 1 });
    } finally {
      await t.close();
    }
  });
});
