import { sql } from 'kysely';
import { consentVersion } from '../../server/signatures/consent';
import {
  aSigner,
  checkEmailLocation,
  confirm,
  confirmPath,
  countOn,
  createTestApp,
  sign,
  type TestApp,
} from '../helpers/testApp';

const slug = 'fund-defence-fairly';

/** The rows a fixed query answers on the app's database, whichever engine it runs on. */
const rows = (app: TestApp, query: string) => app.services.store.all(sql.raw<Record<string, unknown>>(query));
/** Each row's first column, as better-sqlite3's pluck().all() answered them. */
const column = async (app: TestApp, query: string) => (await rows(app, query)).map((r) => Object.values(r)[0]);
/** The first row's first column, as pluck().get() answered it. */
const value = async (app: TestApp, query: string) => (await column(app, query))[0];

describe('the petition journey', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  /** Every mail queued so far has reached the relay or been refused: nothing more is on its way. */
  async function mailSettled() {
    await t.services.sender.idle(); // the pass a signature woke, if one is running
    await t.services.sender.drain(); // and anything still due
    expect(await value(t, "SELECT count(*) AS n FROM outbox WHERE state IN ('queued', 'sending')")).toBe(0);
  }

  describe('POST /petitions/:slug/signatures', () => {
    it('mails a confirmation link, and counts the signature only once it is confirmed', async () => {
      const agent = t.agent();
      const res = await sign(agent, slug, { ...aSigner, showPublicly: 'on' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
      const checkEmail = await agent.get(res.headers.location!).expect(200);
      expect(checkEmail.text).toContain('Check your email');

      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.to).toMatchObject({ text: 'ada@example.org' });
      expect(mail!.subject).toContain('Confirm your signature');
      expect(mail!.html).toContain('/confirm');
      expect(mail!.messageId).toMatch(/^<.+@.+>$/);
      expect(await countOn(agent, slug)).toBe(0);

      const link = confirmPath(mail!.text);
      const confirmPage = await agent.get(link).expect(200);
      expect(confirmPage.text).toContain('Confirm my signature');
      expect(await countOn(agent, slug)).toBe(0);

      const confirmed = await agent.post(link).type('form').send({});
      expect(confirmed.status).toBe(303);
      expect(confirmed.headers.location).toBe(`/petitions/${slug}/thanks?country=GB`);
      const thanks = await agent.get(confirmed.headers.location!).expect(200);
      expect(thanks.text).toContain('1 signature');

      expect(await countOn(agent, slug)).toBe(1);
      const page = await agent.get(`/petitions/${slug}`).expect(200);
      expect(page.text).toContain('1 signature');
      expect(page.text).toMatch(/<li>Ada, United Kingdom<\/li>/);
      // The wording the signer agreed to is kept with the signature, with the moment they agreed.
      const consent = (await rows(t, 'SELECT consent_version, consent_at FROM signatures'))[0];
      expect(consent).toEqual({ consent_version: consentVersion, consent_at: expect.any(Number) });
    });

    it('confirms nothing when the link is only opened (GET), however often', async () => {
      const agent = t.agent();
      await sign(agent, slug);
      const [mail] = await t.smtp!.waitFor(1);
      const link = confirmPath(mail!.text);
      for (let i = 0; i < 3; i++) await t.agent().get(link).expect(200);
      expect(await countOn(agent, slug)).toBe(0);
    });

    it('changes nothing when a confirmation is replayed', async () => {
      const agent = t.agent();
      await sign(agent, slug);
      const [mail] = await t.smtp!.waitFor(1);
      const link = confirmPath(mail!.text);
      await agent.get(link).expect(200);
      await agent.post(link).type('form').send({}).expect(303);
      await agent.post(link).type('form').send({}).expect(303);
      await confirm(agent, link).catch(() => undefined); // the page now redirects: already confirmed
      expect(await countOn(agent, slug)).toBe(1);
    });

    it('shows a clear page for an unknown or tampered link', async () => {
      const agent = t.agent();
      await sign(agent, slug);
      const [mail] = await t.smtp!.waitFor(1);
      const link = confirmPath(mail!.text);
      const tampered = link.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
      const res = await agent.get(tampered).expect(404);
      expect(res.text).toContain('This link is not valid');
      const nonsense = await agent.get('/signatures/nonsense/confirm').expect(404);
      expect(nonsense.text).toContain('This link is not valid');
      await agent.get(link);
      await agent.post(tampered).type('form').send({}).expect(404);
      expect(await countOn(agent, slug)).toBe(0);
    });

    it('keeps one signature per canonical email: case, +tag and Gmail dots are the same person', async () => {
      const agent = t.agent();
      await sign(agent, slug, { ...aSigner, email: 'J.Doe@gmail.com' });
      await sign(agent, slug, { ...aSigner, email: 'jdoe+petitions@googlemail.com' });
      await sign(agent, slug, { ...aSigner, email: 'JDOE@GMAIL.COM' });
      const mails = await t.smtp!.waitFor(3);
      // Each attempt mails a new link to the address typed that time; only the newest confirms.
      const links = mails.map((m) => confirmPath(m.text));
      expect(new Set(links).size).toBe(3);
      await agent.get(links[0]!).expect(404);
      await confirm(agent, links[2]!);
      expect(await countOn(agent, slug)).toBe(1);
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(1);

      // Signing again once confirmed says "check your email" and mails a reminder, but counts nothing.
      const again = await sign(agent, slug, { ...aSigner, email: 'j.d.o.e@gmail.com' });
      expect(again.headers.location).toMatch(checkEmailLocation(slug));
      const [, , , reminder] = await t.smtp!.waitFor(4);
      expect(reminder!.subject).toContain('You have already signed');
      expect(await countOn(agent, slug)).toBe(1);
    });

    it('silently marks signatures over the per-IP rate limit as fraudulent: they never count', async () => {
      const agent = t.agent();
      for (let i = 0; i < 7; i++) {
        const res = await sign(agent, slug, { ...aSigner, email: `person${i}@example.org` });
        expect(res.headers.location).toMatch(checkEmailLocation(slug));
      }
      await mailSettled();
      const mails = t.smtp!.mails;
      expect(mails).toHaveLength(5); // the 6th and 7th got no mail, and look the same to the sender
      for (const mail of mails) await confirm(agent, confirmPath(mail.text));
      expect(await countOn(agent, slug)).toBe(5);
      const states = await rows(t, 'SELECT state, count(*) AS n FROM signatures GROUP BY state');
      expect(states).toEqual(
        expect.arrayContaining([
          { state: 'validated', n: 5 },
          { state: 'fraudulent', n: 2 },
        ]),
      );
    });

    it('does not let a forged X-Forwarded-For escape the rate limit (trust proxy is off by default)', async () => {
      const agent = t.agent();
      for (let i = 0; i < 6; i++) {
        await agent.get(`/petitions/${slug}`);
        await agent
          .post(`/petitions/${slug}/signatures`)
          .set('X-Forwarded-For', `198.51.100.${i}`)
          .type('form')
          .send({ ...aSigner, email: `forged${i}@example.org` })
          .expect(303);
      }
      expect(await value(t, "SELECT count(*) AS n FROM signatures WHERE state = 'fraudulent'")).toBe(1);
    });

    it('stores nothing and mails nothing when the honeypot is filled, but answers as usual', async () => {
      const agent = t.agent();
      const res = await sign(agent, slug, { ...aSigner, website: 'http://spam.example' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
      await t.services.sender.drain();
      expect(t.smtp!.mails).toHaveLength(0);
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(0);
    });

    it('ignores fields it does not expect (no mass assignment)', async () => {
      const agent = t.agent();
      await sign(agent, slug, { ...aSigner, state: 'validated', id: '999', __proto__: 'x', petition_id: '2' });
      await t.smtp!.waitFor(1);
      expect(await countOn(agent, slug)).toBe(0);
      const row = (await rows(t, 'SELECT id, state FROM signatures'))[0];
      expect(row).toEqual({ id: 1, state: 'pending' });
    });
  });

  describe('validation', () => {
    const noLink = 'Enter your name without a web or email address. After a full stop, leave a space, as in “J. Smith”';
    const lettersOnly = 'Enter your name using letters, spaces and punctuation only';
    const postcodeNoLink =
      'Enter a postcode or town without a web address. After a full stop, leave a space, as in “St. Albans”';
    const cases: Array<[string, Record<string, string>, string]> = [
      ['the name is blank', { name: '' }, 'Enter your full name'],
      ['the name holds a web address', { name: 'Visit https://spam.example' }, noLink],
      ['the name starts with =', { name: '=HYPERLINK("x")' }, 'Enter your name without =, +, - or @ at the start'],
      ['the name starts with @', { name: '@someone' }, 'Enter your name without =, +, - or @ at the start'],
      [
        'the name holds a control character',
        { name: 'Ada\u0007 Lovelace' },
        'Enter your name using letters, spaces and punctuation only',
      ],
      ['the name is too long', { name: 'A'.repeat(101) }, 'Enter a name of 100 characters or fewer'],
      ['the email is blank', { email: '' }, 'Enter your email address'],
      [
        'the email is malformed',
        { email: 'ada.example.org' },
        'Enter an email address in the correct format, like name@example.com',
      ],
      ['no country is chosen', { country: '' }, 'Select your country'],
      ['the country is not a country', { country: 'QQ' }, 'Select your country from the list'],
      ['the postcode is too long', { postcode: 'x'.repeat(51) }, 'Enter a postcode or town of 50 characters or fewer'],
      ['the name holds a domain', { name: 'Claim your refund at paypal-help.de now' }, noLink],
      ['the name holds a short link', { name: 'Visit bit.ly/3xYz' }, noLink],
      ['the name is a link', { name: 't.me/freegift' }, noLink],
      ['the name holds a domain with an ideographic dot', { name: 'evil。com' }, noLink],
      ['the name holds a right-to-left override', { name: 'Ada \u202eecalevoL' }, lettersOnly],
      ['the name holds a bidi isolate', { name: 'Ada \u2067Lovelace\u2069' }, lettersOnly],
      ['the postcode holds a domain', { postcode: 'paypal-help.de' }, postcodeNoLink],
    ];

    it.each(cases)('re-renders the form with a message when %s', async (_label, change, message) => {
      const agent = t.agent();
      const res = await sign(agent, slug, { ...aSigner, updates: 'on', ...change });
      expect(res.status).toBe(400);
      expect(res.text).toContain('There is a problem');
      // Once in the summary at the top, once beside the field.
      expect(res.text.split(message.replace(/"/g, '&quot;').replace(/=/g, '&#x3D;')).length - 1).toBe(2);
      expect(res.text).toContain('aria-invalid="true"');
      // The values typed are kept.
      const kept = { ...aSigner, ...change };
      if (kept.email) expect(res.text).toContain(`value="${kept.email}"`);
      expect(res.text).toMatch(/id="field-updates"[^>]*checked/);
      if (kept.country === 'GB') expect(res.text).toMatch(/<option value="GB" selected>/);
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(0);
    });

    it.each([
      ['J. R. R. Tolkien', 'St. Albans'],
      ["Mary-Jane O'Neil", 'Frankfurt a.M.'],
      ['Γιώργος Παπαδόπουλος', 'Θεσσαλονίκη'],
      ['Александр С. Пушкин', 'Санкт-Петербург'],
      ['Şükrü Saracoğlu', 'İzmir'],
    ])('accepts the name %j with the town %j, and greets the signer by it', async (name, postcode) => {
      const res = await sign(t.agent(), slug, { ...aSigner, name, postcode });
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.text).toContain(`Dear ${name},`);
    });

    it('never mails a name stored before the rules refused it to an unconfirmed address', async () => {
      const agent = t.agent();
      await sign(agent, slug, aSigner);
      await t.smtp!.waitFor(1);
      const spam = 'Claim your refund at paypal-help.de now';
      await t.services.store.run(sql`UPDATE signatures SET name = ${spam}`);
      await sign(agent, slug, aSigner);
      const [, again] = await t.smtp!.waitFor(2);
      expect(again!.subject).toContain('Confirm your signature');
      // Signing again replaces a pending signature's details with the new attempt's.
      expect(again!.text).toContain('Dear Ada Lovelace,');
      expect(again!.text).not.toContain('paypal');
      expect(again!.html).not.toContain('paypal');
    });

    it('shows a <script> name escaped on the re-rendered form and among recent signers', async () => {
      const agent = t.agent();
      const evil = '<script>alert(1)</script>';
      const bad = await sign(agent, slug, { ...aSigner, name: evil, email: '' });
      expect(bad.status).toBe(400);
      expect(bad.text).not.toContain(evil);
      expect(bad.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');

      await sign(agent, slug, { ...aSigner, name: evil, showPublicly: 'on' });
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.html).not.toContain(evil);
      await confirm(agent, confirmPath(mail!.text));
      const page = await agent.get(`/petitions/${slug}`).expect(200);
      expect(page.text).not.toContain(evil);
      expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;, United Kingdom');
    });
  });

  describe('protection', () => {
    it('refuses a form posted from another site (403), with a clear page, and stores nothing', async () => {
      const res = await t
        .agent()
        .post(`/petitions/${slug}/signatures`)
        .set('Sec-Fetch-Site', 'cross-site')
        .type('form')
        .send(aSigner);
      expect(res.status).toBe(403);
      expect(res.text).toContain('This form came from another site');
      expect(res.text).not.toMatch(/at \w+ \(/); // no stack trace
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(0);
    });

    it('refuses a form from a foreign Origin when the browser sends no Sec-Fetch-Site (403)', async () => {
      const res = await t
        .agent()
        .post(`/petitions/${slug}/signatures`)
        .set('Origin', 'https://evil.example')
        .type('form')
        .send(aSigner);
      expect(res.status).toBe(403);
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(0);
    });

    it('answers an oversized body with a clear 413 page', async () => {
      const agent = t.agent();
      await agent.get(`/petitions/${slug}`);
      const res = await agent
        .post(`/petitions/${slug}/signatures`)
        .type('form')
        .send({ ...aSigner, name: 'x'.repeat(40_000) });
      expect(res.status).toBe(413);
      expect(res.text).toContain('Too much data');
      expect(res.text).not.toMatch(/at \w+ \(/); // no stack trace
    });

    it('refuses to sign a closed petition with a clear page', async () => {
      const agent = t.agent();
      await agent.get(`/petitions/${slug}`);
      await t.services.petitions.setState(slug, 'closed');
      const res = await agent.post(`/petitions/${slug}/signatures`).type('form').send(aSigner);
      expect(res.status).toBe(409);
      expect(res.text).toContain('This petition is closed');
      const closedPage = await agent.get(`/petitions/${slug}`).expect(200);
      expect(closedPage.text).not.toContain('name="email"');
      expect(await value(t, 'SELECT count(*) AS n FROM signatures')).toBe(0);
    });
  });

  describe('mail delivery through the outbox', () => {
    it('retries when the relay answers 451, and the mail arrives on the retry', async () => {
      t.smtp!.respond((n) => (n === 0 ? { code: 451, message: 'Try again later' } : undefined));
      const agent = t.agent();
      await sign(agent, slug);
      const [mail] = await t.smtp!.waitFor(1);
      expect(t.smtp!.attempts).toBe(2);
      expect(mail!.subject).toContain('Confirm your signature');
      await t.services.sender.idle();
      const row = (await rows(t, 'SELECT state, attempts FROM outbox'))[0];
      expect(row).toEqual({ state: 'sent', attempts: 2 });
    });

    it('does not retry when the relay refuses for good (550)', async () => {
      t.smtp!.respond(() => ({ code: 550, message: 'No such user' }));
      await sign(t.agent(), slug);
      await t.services.sender.idle(); // the pass that sent it, refused
      await t.services.sender.drain(); // nothing to retry
      expect(t.smtp!.attempts).toBe(1);
      const row = (await rows(t, 'SELECT state, attempts, last_error AS lastError FROM outbox'))[0];
      expect(row).toMatchObject({ state: 'failed', attempts: 1 });
    });

    it('keeps the same Message-ID when a mail is sent again', async () => {
      t.smtp!.respond((n) => (n === 0 ? { code: 421, message: 'Busy' } : undefined));
      await sign(t.agent(), slug);
      const [mail] = await t.smtp!.waitFor(1);
      const stored = await value(t, 'SELECT message_id FROM outbox');
      expect(mail!.messageId).toBe(stored);
    });
  });

  describe('the mail cap', () => {
    // Rate limits far above the cap: what stops the mails here is the cap itself.
    let roomy: TestApp;
    beforeEach(async () => {
      roomy = await createTestApp({ env: { SIGN_LIMIT_PER_MINUTE: '100', SIGN_LIMIT_PER_5_MINUTES: '100' } });
    });
    afterEach(() => roomy.close());

    it('sends at most 5 mails for one signature, however often it is signed again', async () => {
      const agent = roomy.agent();
      for (let i = 0; i < 8; i++) {
        const res = await sign(agent, slug, { ...aSigner, email: `same+${i}@example.org` });
        expect(res.headers.location).toMatch(checkEmailLocation(slug));
      }
      await roomy.services.sender.idle();
      await roomy.services.sender.drain();
      expect(roomy.smtp!.mails).toHaveLength(5);
      expect(roomy.smtp!.mails.every((m) => m.subject?.startsWith('Confirm your signature'))).toBe(true);
      // One signature, none of the attempts flagged: the rate limit played no part.
      const states = await column(roomy, 'SELECT state FROM signatures');
      expect(states).toEqual(['pending']);
    });
  });

  describe('allow and block lists', () => {
    let listed: TestApp;
    beforeEach(async () => {
      listed = await createTestApp({
        env: { BLOCKED_EMAIL_DOMAINS: 'spam.example', ALLOWED_IP_RANGES: '127.0.0.0/8,::1' },
      });
    });
    afterEach(() => listed.close());

    it('marks a blocked email domain fraudulent, silently', async () => {
      const res = await sign(listed.agent(), slug, { ...aSigner, email: 'bot@spam.example' });
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
      await listed.services.sender.drain();
      expect(listed.smtp!.mails).toHaveLength(0);
      const row = (await rows(listed, 'SELECT state, fraud_reason AS reason FROM signatures'))[0];
      expect(row).toEqual({ state: 'fraudulent', reason: 'blocked_domain' });
    });

    it('marks the subdomains of a blocked domain fraudulent, and only those', async () => {
      const agent = listed.agent();
      for (const email of ['bot@sub.spam.example', 'BOT2@Deep.Sub.SPAM.example', 'ann@notspam.example']) {
        const res = await sign(agent, slug, { ...aSigner, email });
        expect(res.headers.location).toMatch(checkEmailLocation(slug));
      }
      await listed.smtp!.waitFor(1);
      await listed.services.sender.drain();
      expect(listed.smtp!.mails.map((m) => m.to && 'text' in m.to && m.to.text)).toEqual(['ann@notspam.example']);
      expect(await rows(listed, 'SELECT email, state FROM signatures ORDER BY id')).toEqual([
        { email: 'bot@sub.spam.example', state: 'fraudulent' },
        { email: 'BOT2@Deep.Sub.SPAM.example', state: 'fraudulent' },
        { email: 'ann@notspam.example', state: 'pending' },
      ]);
    });

    it("lets an allowed email domain's subdomains past the rate limit too", async () => {
      const campus = await createTestApp({ env: { ALLOWED_EMAIL_DOMAINS: 'uni.example' } });
      try {
        const agent = campus.agent();
        for (let i = 0; i < 7; i++) await sign(agent, slug, { ...aSigner, email: `student${i}@cs.uni.example` });
        await campus.smtp!.waitFor(7);
        const states = await column(campus, 'SELECT DISTINCT state FROM signatures');
        expect(states).toEqual(['pending']);
      } finally {
        await campus.close();
      }
    });

    it('lets an allowed IP range past the rate limit (an office behind one address)', async () => {
      const agent = listed.agent();
      for (let i = 0; i < 8; i++) await sign(agent, slug, { ...aSigner, email: `colleague${i}@example.org` });
      await listed.smtp!.waitFor(8);
      const states = await column(listed, 'SELECT DISTINCT state FROM signatures');
      expect(states).toEqual(['pending']);
    });
  });
});
