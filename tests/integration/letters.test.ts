import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import type TestAgent from 'supertest/lib/agent';
import { tracesOf } from '../helpers/traces';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { runLettersCli } from '../../server/letters/cli';
import { setTargetEmailIn } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { unescapeHtml } from '../helpers/letters';
import { postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';

const slug = 'progressive-taxation';
const demandTitle = 'Fund defence through fair taxes, not austerity';
const italy = 'rappnat.mail@esteri.it';
const italianDelegation = "Rappresentanza Permanente d'Italia presso il Consiglio Atlantico";
const platform = 'no-reply@undersigned.localhost';
const day = 24 * 60 * 60 * 1000;

type Fields = Record<string, string>;

const aWriter: Fields = {
  country: 'IT',
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  town: 'London',
  ownWords: 'My mother waited two years for an operation in a public hospital.',
  lang: 'auto',
};

/** The rows a fixed query answers on the app's database, whichever engine it runs on. */
const rows = (app: TestApp, query: string) => app.services.store.all(sql.raw<Record<string, unknown>>(query));
/** Each row's first column, as better-sqlite3's pluck().all() answered them. */
const column = async (app: TestApp, query: string) => (await rows(app, query)).map((r) => Object.values(r)[0]);
/** The first row's first column, as pluck().get() answered it. */
const value = async (app: TestApp, query: string) => (await column(app, query))[0];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function letterTextOn(html: string): string {
  const match = /<textarea id="field-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(html);
  if (!match) throw new Error('no letter on the page');
  return unescapeHtml(match[1]!);
}

function confirmPath(mail: ParsedMail | undefined): string {
  const match = /http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27}\/confirm)/.exec(mail?.text ?? '');
  if (!match) throw new Error(`no confirmation link in: ${mail?.text}`);
  return match[1]!;
}

function statusPath(mail: ParsedMail | undefined): string {
  const match = /http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27})(?=\s)/.exec(mail?.text ?? '');
  if (!match) throw new Error(`no status link in: ${mail?.text}`);
  return match[1]!;
}

function stateOn(html: string): string | undefined {
  return /data-state="([a-z_]+)"/.exec(html)?.[1];
}

/** Form → preview → send, on `app`, as a browser would: the letter waits for its confirmation. */
async function writeOn(app: TestApp, fields: Fields) {
  const agent = app.agent();
  await agent.get(`/demands/${slug}/letters/new`);
  const page = await agent.post(`/demands/${slug}/letters/preview`).type('form').send(fields);
  await agent
    .post(`/demands/${slug}/letters`)
    .type('form')
    .send({ ...fields, body: letterTextOn(page.text) })
    .expect(303);
  return agent;
}

/** Form → preview → send → the confirmation mail → Confirm, on `app`, as a browser would. */
async function writeAndConfirmOn(app: TestApp, fields: Fields) {
  const agent = await writeOn(app, fields);
  const isMine = (m: ParsedMail) =>
    !!m.to && 'text' in m.to && m.to.text === fields.email && !!m.subject?.startsWith('Confirm');
  while (!app.smtp!.mails.some(isMine)) await app.smtp!.waitFor(app.smtp!.mails.length + 1);
  const mail = app.smtp!.mails.find(isMine);
  await agent.get(confirmPath(mail)).expect(200);
  await agent.post(confirmPath(mail)).type('form').send({}).expect(303);
  return { agent, status: statusPath(mail) };
}

describe('letters to the NATO delegations', () => {
  let t: TestApp;
  let now: number;
  beforeEach(async () => {
    now = Date.UTC(2026, 2, 10, 9, 0, 0);
    t = await createTestApp({ clock: () => now });
  });
  afterEach(() => t.close());

  async function preview(agent: TestAgent, fields: Fields = aWriter, demand = slug) {
    await agent.get(`/demands/${demand}/letters/new`).expect(200);
    return agent.post(`/demands/${demand}/letters/preview`).type('form').send(fields);
  }

  /** Form → preview → (edit) → send, as a browser would: the preview's hidden fields go back with the text. */
  async function write(
    agent: TestAgent,
    fields: Fields = aWriter,
    edit: (text: string) => string = (text) => text,
    demand = slug,
  ) {
    const page = await preview(agent, fields, demand);
    expect(page.status).toBe(200);
    const hidden = Object.fromEntries(
      [...page.text.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        unescapeHtml(m[2]!),
      ]),
    );
    return agent
      .post(`/demands/${demand}/letters`)
      .type('form')
      .send({
        ...fields,
        ...hidden,
        ...(fields.delivery ? { delivery: fields.delivery } : {}),
        body: edit(letterTextOn(page.text)),
      });
  }

  async function confirm(agent: TestAgent, path: string) {
    await agent.get(path).expect(200);
    return agent.post(path).type('form').send({});
  }

  /** Where every letter written to the country's delegation is sent, whatever its address wrote before. */
  const checkEmailFor = async (country: string, demand = slug) => {
    const { store } = t.services;
    const target = await store.first(
      store.qb.selectFrom('targets').select('id').where('country_code', '=', country).where('is_default', '=', 1),
    );
    const id = target!.id;
    return `/demands/${demand}/letters/check-email?to=${id}`;
  };
  const mailsTo = (address: string) => t.smtp!.mails.filter((m) => m.to && 'text' in m.to && m.to.text === address);
  const letterRows = () =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('letters')
        .select(['id', 'state', 'delivery', 'hold_reason as holdReason'])
        .orderBy('id'),
    );
  const settle = async () => {
    await t.services.sender.idle();
    await t.services.sender.drain();
  };

  describe('the journey to a delegation with an address (Italy)', () => {
    it('writes, previews, edits, confirms from the mail, and delivers to the delegation with a copy', async () => {
      const agent = t.agent();
      const home = await agent.get('/').expect(200);
      expect(home.text).toContain(`href="/demands/${slug}/letters/new"`);
      expect(home.text.match(/Write to your delegation<\/a>/g)).toHaveLength(5);

      const form = await agent.get(`/demands/${slug}/letters/new`).expect(200);
      expect(form.text).toContain('Why does this matter to you?');
      expect(form.text.match(/<option value="[A-Z]{2}"/g)).toHaveLength(32);
      expect(form.text).toContain('French for Belgium, Canada, France and Luxembourg');

      const page = await preview(agent, { ...aWriter, copy: 'on' });
      expect(page.status).toBe(200);
      const draft = letterTextOn(page.text);
      // A diplomat's greeting, not the institution's name; the name is on the letter's "To" line.
      expect(draft.startsWith('Dear Ambassador,\n\n')).toBe(true);
      expect(unescapeHtml(page.text)).toContain(`${italianDelegation} (Italy)`);
      expect(draft).toContain(aWriter.ownWords);
      expect(draft).toContain('how Italy will pay');
      expect(draft.endsWith('Yours sincerely,\n\nAda Lovelace\nLondon')).toBe(true);
      expect(unescapeHtml(page.text)).toContain(`${demandTitle} – a letter from Ada Lovelace`);

      const sent = await write(agent, { ...aWriter, copy: 'on' }, (text) =>
        text.replace('Yours sincerely,', 'I look forward to your answer.\n\nYours sincerely,'),
      );
      expect(sent.status).toBe(303);
      expect(sent.headers.location).toBe(await checkEmailFor('IT'));
      const checkEmail = await agent.get(sent.headers.location!).expect(200);
      expect(checkEmail.text).toContain('Check your email');
      expect(checkEmail.text).toContain('press the Confirm button to send your letter');

      const [confirmation] = await t.smtp!.waitFor(1);
      expect(confirmation!.to).toMatchObject({ text: 'ada@example.org' });
      expect(confirmation!.subject).toBe(`Confirm your letter: ${demandTitle}`);
      // The address is not confirmed yet: the mail carries none of the writer's text (no free spam
      // relay); the page behind the link shows the letter before it is sent.
      expect(confirmation!.text).not.toContain('I look forward to your answer.');
      expect(confirmation!.text).not.toContain(aWriter.ownWords);
      const link = confirmPath(confirmation);
      const status = statusPath(confirmation);
      expect((await agent.get(status).expect(200)).text).toContain('Waiting for confirmation');

      const confirmPage = await agent.get(link).expect(200);
      expect(unescapeHtml(confirmPage.text)).toContain('I look forward to your answer.');
      expect(confirmPage.text).toContain('Confirm and send my letter');
      expect(confirmPage.headers['cache-control']).toBe('no-store');
      const done = await agent.post(link).type('form').send({});
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe(status);

      await t.smtp!.waitFor(3);
      const toItaly = mailsTo(italy);
      expect(toItaly).toHaveLength(1);
      const letter = toItaly[0]!;
      expect(letter.from!.value).toEqual([{ name: 'Undersigned', address: platform }]);
      expect(letter.replyTo!.text).toBe('ada@example.org');
      expect(letter.subject).toBe(`${demandTitle} – a letter from Ada Lovelace`);
      expect(t.smtp!.envelopes[t.smtp!.mails.indexOf(letter)]).toEqual([italy]);
      for (const part of [letter.text!, unescapeHtml(letter.html as string)]) {
        expect(part).toContain('Dear Ambassador,');
        expect(part).toContain(aWriter.ownWords);
        expect(part).toContain('I look forward to your answer.');
        expect(part).toContain('Ada Lovelace');
        expect(part).toContain('Reply to this email to answer Ada Lovelace directly.');
      }
      expect(letter.html).toContain('<p>');

      const [copy] = mailsTo('ada@example.org').filter((m) => m.subject?.startsWith('Copy of your letter'));
      expect(copy!.subject).toBe(`Copy of your letter: ${demandTitle}`);
      expect(copy!.text).toContain(aWriter.ownWords);
      expect(copy!.text).toContain(`http://localhost:3000${status}`);

      await settle();
      const after = await agent.get(status).expect(200);
      expect(stateOn(after.text)).toBe('sent');
      expect(after.text).toContain('Delivered to the delegation');
      const demand = await agent.get(`/demands/${slug}`).expect(200);
      expect(demand.text).toContain('Delivered by email: 1');
      expect(demand.text).toContain('Handed in with a pack of signatures: 0');
      expect(demand.text).toMatch(/<th scope="row">Italy<\/th><td>1<\/td><td>0<\/td><td>0<\/td>/);
    });

    it('sends nothing when the confirmation link is only opened (GET), however often', async () => {
      const agent = t.agent();
      await write(agent);
      const [mail] = await t.smtp!.waitFor(1);
      for (let i = 0; i < 3; i++) await t.agent().get(confirmPath(mail)).expect(200);
      await settle();
      expect(t.smtp!.mails).toHaveLength(1);
      expect((await letterRows()).map((l) => l.state)).toEqual(['pending']);
    });

    it('sends once when the confirmation is replayed', async () => {
      const agent = t.agent();
      await write(agent);
      const link = confirmPath((await t.smtp!.waitFor(1))[0]);
      await agent.get(link).expect(200);
      for (let i = 0; i < 3; i++) {
        await agent.post(link).type('form').send({}).expect(303);
      }
      await t.smtp!.waitFor(2);
      await settle();
      expect(mailsTo(italy)).toHaveLength(1);
      expect(t.smtp!.mails).toHaveLength(2); // the confirmation, then the letter: no copy was asked for
      // Opening the link again now leads to the letter's page.
      const again = await agent.get(link).expect(303);
      expect(again.headers.location).toMatch(/^\/letters\/\d+\.[\w-]{27}$/);
    });

    it('shows a clear page for an unknown or tampered link, and sends nothing', async () => {
      const agent = t.agent();
      await write(agent);
      const link = confirmPath((await t.smtp!.waitFor(1))[0]);
      const tampered = link.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
      expect((await agent.get(tampered).expect(404)).text).toContain('This link is not valid');
      expect((await agent.get('/letters/nonsense/confirm').expect(404)).text).toContain('This link is not valid');
      await agent.get(link);
      await agent.post(tampered).type('form').send({}).expect(404);
      // A status token does not confirm, and a confirmation token does not open the status page.
      const statusLike = link.replace(/\/confirm$/, '');
      await agent.get(statusLike).expect(404);
      await settle();
      expect((await letterRows()).map((l) => l.state)).toEqual(['pending']);
    });

    it('marks the letter failed when the delegation’s server refuses it for good, and says so', async () => {
      const agent = t.agent();
      await write(agent);
      const [mail] = await t.smtp!.waitFor(1);
      t.smtp!.respond(() => ({ code: 550, message: 'No such mailbox' }));
      await confirm(agent, confirmPath(mail));
      await settle();
      expect((await letterRows()).map((l) => l.state)).toEqual(['failed']);
      const page = await agent.get(statusPath(mail)).expect(200);
      expect(stateOn(page.text)).toBe('failed');
      expect(page.text).toContain('Not delivered');
      expect((await agent.get(`/demands/${slug}`)).text).toContain('No letters have been sent yet');
    });

    it('writes in French by default to a French-speaking delegation, and in the language asked otherwise', async () => {
      await t.services.targets.setEmail((await t.services.targets.forCountry('BE'))[0]!.id, 'nato.be@example.org');
      const agent = t.agent();
      const fr = await preview(agent, { ...aWriter, country: 'BE' });
      expect(letterTextOn(fr.text)).toMatch(
        /^À l'attention de : Belgische Permanente .* \(Belgique\)\n\nMadame l'Ambassadrice, Monsieur l'Ambassadeur,/,
      );
      expect(letterTextOn(fr.text)).toContain(aWriter.ownWords);
      const en = await preview(agent, { ...aWriter, country: 'BE', lang: 'en' });
      expect(letterTextOn(fr.text)).toContain(
        "Je vous prie d'agréer, Madame l'Ambassadrice, Monsieur l'Ambassadeur, l'expression de ma haute considération.",
      );
      expect(letterTextOn(en.text)).toMatch(/^Dear Ambassador,\n/);
      expect(unescapeHtml(en.text)).toContain('Belgische Permanente Vertegenwoordiging bij de NAVO (Belgium)');
      await write(agent, { ...aWriter, country: 'BE' });
      await confirm(agent, confirmPath((await t.smtp!.waitFor(1))[0]));
      await t.smtp!.waitFor(2);
      const [letter] = mailsTo('nato.be@example.org');
      expect(letter!.subject).toBe(
        "Financer la défense par un impôt juste, pas par l'austérité – une lettre signée Ada Lovelace",
      );
      expect(letter!.text).toContain('Répondez à cet e-mail');
    });

    it('lets the supporter pick another target of the same country, still only from our table', async () => {
      const pa = await t.services.targets.create({
        kind: 'parliamentary_assembly',
        country: 'IT',
        name: 'Delegazione italiana presso l’Assemblea parlamentare della NATO',
        languages: ['it'],
        email: 'pa.it@example.org',
        website: null,
      });
      const agent = t.agent();
      const page = await preview(agent);
      expect(page.text).toContain('Write to someone else in Italy?');
      expect(page.text).toContain('Delegation to the NATO Parliamentary Assembly');
      await write(agent, { ...aWriter, target: String(pa) });
      await confirm(agent, confirmPath((await t.smtp!.waitFor(1))[0]));
      await t.smtp!.waitFor(2);
      expect(mailsTo('pa.it@example.org')).toHaveLength(1);
      // A delegation to the Parliamentary Assembly is greeted as its members.
      expect(mailsTo('pa.it@example.org')[0]!.text).toMatch(/^Dear members of the delegation,$/m);
      // A target of another country cannot be smuggled in: the country's default is used instead.
      const france = (await t.services.targets.forCountry('FR'))[0]!.id;
      const other = await preview(t.agent(), { ...aWriter, email: 'b@example.org', target: String(france) });
      expect(unescapeHtml(other.text)).toContain(`${italianDelegation} (Italy)`);
    });
  });

  describe('a delegation without an address (France), when the supporter chooses to send it', () => {
    it('mails the link to the letter, which offers mailto:, copy and print, and counts it apart once sent', async () => {
      const agent = t.agent();
      const page = await preview(agent, { ...aWriter, country: 'FR', lang: 'en' });
      expect(page.text).toMatch(/<input id="field-delivery-self" name="delivery" type="radio" value="self" [^>]*>/);
      const res = await write(
        agent,
        { ...aWriter, country: 'FR', lang: 'en', delivery: 'self' },
        (text) => `${text}\n\nP.S. 100% & more = ?`,
      );
      expect(res.status).toBe(303);
      // The answer is the one every letter gets: the letter comes by mail, to its writer's address only.
      expect(res.headers.location).toBe(`${await checkEmailFor('FR')}&by=self`);
      const checkEmail = await agent.get(res.headers.location!).expect(200);
      expect(unescapeHtml(checkEmail.text)).toContain(
        "We have sent you an email with a link to your letter. Open it to send the letter to Représentation permanente de la France auprès de l'OTAN yourself, by email or by post",
      );
      expect(checkEmail.text).not.toContain('P.S.');

      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.to).toMatchObject({ text: 'ada@example.org' });
      expect(mail!.subject).toBe(
        "Your letter to Représentation permanente de la France auprès de l'OTAN: tell us when it is sent",
      );
      // It carries the link, and nothing of the letter's text (the address is not confirmed yet).
      expect(mail!.text).not.toContain('P.S.');
      expect(mail!.html).not.toContain('P.S.');
      const status = statusPath(mail);

      const own = await agent.get(status).expect(200);
      expect(stateOn(own.text)).toBe('pending');
      expect(own.text).toContain('Ready for you to send');
      const href = unescapeHtml(/id="mailto-link" href="([^"]+)"/.exec(own.text)![1]!);
      const mailto = new URL(href);
      expect(href.startsWith('mailto:?subject=')).toBe(true);
      expect(href).not.toMatch(/[ +\n]/);
      const text = letterTextOn(page.text) + '\n\nP.S. 100% & more = ?';
      expect(mailto.searchParams.get('subject')).toBe(`${demandTitle} – a letter from Ada Lovelace`);
      expect(mailto.searchParams.get('body')).toBe(text.replace(/\n/g, '\r\n'));
      expect(own.text).toContain('data-copy="letter-text"');
      expect(own.text).toContain(`href="${status}/print"`);

      const print = await agent.get(`${status}/print`).expect(200);
      expect(print.text).toContain('Print this letter');
      expect(unescapeHtml(print.text)).toContain('P.S. 100% & more');

      expect(own.text).toContain('I have sent it</button>');
      expect((await agent.get(`/demands/${slug}`).expect(200)).text).not.toContain('Sent by supporters themselves: 1');
      await agent.post(`${status}/self-sent`).type('form').send({}).expect(303);
      const after = await agent.get(status).expect(200);
      expect(stateOn(after.text)).toBe('self_sent');
      expect(after.text).not.toContain('I have sent it');
      // Pressing again changes nothing, and it counts once.
      await agent.post(`${status}/self-sent`).type('form').send({}).expect(303);
      const demand = await agent.get(`/demands/${slug}`).expect(200);
      expect(demand.text).toContain('Delivered by email: 0');
      expect(demand.text).toContain('Sent by supporters themselves: 1');
      expect(demand.text).toMatch(/<th scope="row">France<\/th><td>0<\/td><td>0<\/td><td>1<\/td>/);
      await settle();
      expect(t.smtp!.mails).toHaveLength(1);
    });

    it('does not let a letter to a delegation with an address be marked self-sent', async () => {
      const agent = t.agent();
      await write(agent);
      const [mail] = await t.smtp!.waitFor(1);
      await agent
        .post(`${statusPath(mail)}/self-sent`)
        .type('form')
        .send({})
        .expect(303);
      expect(stateOn((await agent.get(statusPath(mail))).text)).toBe('pending');
      expect((await letterRows()).map((l) => l.state)).toEqual(['pending']);
    });
  });

  describe('validation', () => {
    const noLink = 'Enter your name without a web or email address. After a full stop, leave a space, as in “J. Smith”';
    const lettersOnly = 'Enter your name using letters, spaces and punctuation only';
    const townNoLink =
      'Enter a town or postcode without a web address. After a full stop, leave a space, as in “St. Albans”';
    const cases: Array<[string, Fields, string]> = [
      ['no country is chosen', { country: '' }, 'Select the country whose delegation you are writing to'],
      ['the country is not a member state', { country: 'BR' }, 'Select a country from the list'],
      ['the name is blank', { name: '' }, 'Enter your full name'],
      ['the name is too long', { name: 'A'.repeat(101) }, 'Enter a name of 100 characters or fewer'],
      ['the email is blank', { email: '' }, 'Enter your email address'],
      ['the email is malformed', { email: 'ada.example.org' }, 'Enter an email address in the correct format'],
      ['the town is too long', { town: 'x'.repeat(81) }, 'Enter a town or postcode of 80 characters or fewer'],
      ['the own words are blank', { ownWords: '   ' }, 'Write a sentence or two in your own words'],
      ['the own words are too short', { ownWords: 'I agree.' }, 'Write at least 15 characters in your own words'],
      ['the own words are too long', { ownWords: 'word '.repeat(201) }, 'Keep your own words to 1,000 characters'],
      ['the name holds a domain', { name: 'Claim your refund at paypal-help.de now' }, noLink],
      ['the name holds a short link', { name: 'Visit bit.ly/3xYz' }, noLink],
      ['the name is a link', { name: 't.me/freegift' }, noLink],
      ['the name holds a domain with an ideographic dot', { name: 'evil。com' }, noLink],
      ['the name holds a right-to-left override', { name: 'Ada \u202eecalevoL' }, lettersOnly],
      ['the name holds a bidi isolate', { name: 'Ada \u2067Lovelace\u2069' }, lettersOnly],
      ['the town holds a domain', { town: 'Visit paypal-help．de' }, townNoLink],
      ['the town holds a right-to-left mark', { town: 'London\u200f' }, 'Enter a town or postcode using letters'],
    ];

    it.each([
      ['J. R. R. Tolkien', 'St. Albans'],
      ["Mary-Jane O'Neil", 'Frankfurt a.M.'],
      ['Γιώργος Παπαδόπουλος', 'Θεσσαλονίκη'],
      ['Александр С. Пушкин', 'Санкт-Петербург'],
      ['Şükrü Saracoğlu', 'İzmir'],
    ])('accepts the name %j with the town %j, and signs the letter with them', async (name, town) => {
      const res = await preview(t.agent(), { ...aWriter, lang: 'en', name, town });
      expect(res.status).toBe(200);
      expect(letterTextOn(res.text)).toMatch(new RegExp(`${escapeRegExp(name)}\n${escapeRegExp(town)}$`));
    });

    it.each(cases)(
      're-renders the form with a message when %s, keeping what was typed',
      async (_label, change, message) => {
        const agent = t.agent();
        const res = await preview(agent, { ...aWriter, copy: 'on', ...change });
        expect(res.status).toBe(400);
        expect(res.text).toContain('There is a problem');
        // Once in the summary at the top, once beside the field.
        expect(res.text).toMatch(new RegExp(`<li><a href="#field-\\w+">${escapeRegExp(message)}[^<]*</a></li>`));
        expect(res.text).toMatch(
          new RegExp(`<p class="field-error" id="field-\\w+-error"><span[^>]*>Error:</span> ${escapeRegExp(message)}`),
        );
        expect(res.text).toContain('aria-invalid="true"');
        expect(res.text).toContain('novalidate');
        expect(res.text).toMatch(/id="field-copy"[^>]*checked/);
        const kept = { ...aWriter, ...change };
        if (kept.email) expect(res.text).toContain(`value="${kept.email}"`);
        if (kept.ownWords?.trim()) expect(res.text).toContain(kept.ownWords.trim().slice(0, 20));
      },
    );

    it('refuses a letter longer than 20,000 characters with a message beside the text, and takes one of exactly 20,000', async () => {
      const agent = t.agent();
      const tooLong = await write(agent, aWriter, (text) => `${text}\n\n${'é'.repeat(20_000 - text.length - 1)}`);
      expect(tooLong.status).toBe(400);
      expect(tooLong.text).toContain('Check your letter');
      expect(tooLong.text.split('Shorten your letter to 20,000 characters or fewer').length - 1).toBe(2);
      expect(letterTextOn(tooLong.text).length).toBe(20_001);

      const exactly = await write(agent, aWriter, (text) => `${text}\n\n${'é'.repeat(20_000 - text.length - 2)}`);
      expect(exactly.status).toBe(303);
      const stored = await value(t, 'SELECT length(body) AS n FROM letter_texts');
      expect(stored).toBe(20_000);
    });

    it('asks to keep a sentence of one’s own when the edit leaves only our template', async () => {
      const agent = t.agent();
      const res = await write(agent, aWriter, (text) => text.replace(aWriter.ownWords!, ''));
      expect(res.status).toBe(400);
      expect(res.text).toContain('Keep a sentence or two of your own in the letter');
      const blank = await write(agent, aWriter, () => '   ');
      expect(blank.status).toBe(400);
      expect(blank.text).toContain('Enter the text of your letter');
      expect(await letterRows()).toEqual([]);
    });

    it('refuses a form posted from another site (403)', async () => {
      const res = await t
        .agent()
        .post(`/demands/${slug}/letters`)
        .set('Sec-Fetch-Site', 'cross-site')
        .type('form')
        .send({ ...aWriter, body: 'Dear all' });
      expect(res.status).toBe(403);
      expect(await letterRows()).toEqual([]);
    });

    it('answers an unknown demand with a 404 page', async () => {
      await t.agent().get('/demands/no-such-demand/letters/new').expect(404);
      await t.agent().get('/demands/no-such-demand').expect(404);
    });
  });

  describe('header injection and escaping', () => {
    const injection = '\r\nBcc: evil@example.org\r\nSubject: pwned';

    it.each([
      ['name', 'Enter your name using letters, spaces and punctuation only'],
      ['email', 'Enter an email address in the correct format'],
      ['town', 'Enter a town or postcode using letters, numbers and spaces only'],
      ['country', 'Select a country from the list'],
    ])('refuses CR/LF in the %s', async (field, message) => {
      const res = await preview(t.agent(), { ...aWriter, [field]: `${aWriter[field]}${injection}` });
      expect(res.status).toBe(400);
      expect(res.text).toContain(message);
    });

    it('keeps CR/LF in the own words and the text inside the body, and takes recipients only from the target table', async () => {
      const agent = t.agent();
      const res = await write(
        agent,
        {
          ...aWriter,
          ownWords: `${aWriter.ownWords}${injection}`,
          lang: `en${injection}`,
          target: `999${injection}`,
          to: 'evil@example.org',
          recipient: 'evil@example.org',
          replyTo: 'evil@example.org',
        },
        (text) => `${text}${injection}`,
      );
      expect(res.status).toBe(303);
      await confirm(agent, confirmPath((await t.smtp!.waitFor(1))[0]));
      await t.smtp!.waitFor(2);
      await settle();
      const [letter] = mailsTo(italy);
      expect(t.smtp!.envelopes.flat()).not.toContain('evil@example.org');
      expect(t.smtp!.envelopes[t.smtp!.mails.indexOf(letter!)]).toEqual([italy]);
      expect(letter!.subject).toBe(`${demandTitle} – a letter from Ada Lovelace`);
      expect(letter!.headers.has('bcc')).toBe(false);
      expect(letter!.headers.has('cc')).toBe(false);
      expect(letter!.replyTo!.text).toBe('ada@example.org');
      expect(letter!.text).toContain('Bcc: evil@example.org'); // as words of the letter, in its body
    });

    it('shows a <script> in the words and the name escaped on every page and in every HTML part', async () => {
      const evil = '<script>alert("x")</script>';
      const writer = { ...aWriter, name: `Eve ${evil}`, ownWords: `I mean it ${evil} truly and deeply.`, copy: 'on' };
      const agent = t.agent();
      const page = await preview(agent, writer);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(evil);
      expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      await write(agent, writer);
      const [confirmation] = await t.smtp!.waitFor(1);
      expect(confirmation!.html).not.toContain('<script');
      const pages = [await agent.get(confirmPath(confirmation)), await agent.get(statusPath(confirmation))];
      await confirm(agent, confirmPath(confirmation));
      await t.smtp!.waitFor(3);
      await settle();
      pages.push(await agent.get(statusPath(confirmation)), await agent.get(`${statusPath(confirmation)}/print`));
      for (const p of pages) {
        expect(p.status).toBe(200);
        expect(p.text).not.toContain('<script>alert');
        expect(p.text).toContain('&lt;script&gt;');
      }
      for (const mail of t.smtp!.mails) {
        expect(mail.html).not.toContain('<script');
        expect(mail.html).toContain('&lt;script&gt;');
        expect(mail.text).toContain(evil); // plain text is plain text
      }
    });
  });

  describe('rules', () => {
    it('keeps one letter per email per target per demand per day: a new version while unconfirmed, a reminder after', async () => {
      const agent = t.agent();
      await write(agent, { ...aWriter, email: 'J.Doe@gmail.com' });
      await write(agent, {
        ...aWriter,
        email: 'jdoe+letters@googlemail.com',
        ownWords: 'On second thoughts, my own words.',
      });
      const [first, second] = await t.smtp!.waitFor(2);
      expect(await letterRows()).toHaveLength(1);
      // Written again before it was confirmed, the letter is the new version; only the latest link works.
      expect(second!.to).toMatchObject({ text: 'jdoe+letters@googlemail.com' });
      const stale = await agent.get(confirmPath(first)).expect(404);
      expect(stale.text).toContain('only the link in the latest email works');
      const latest = await agent.get(confirmPath(second)).expect(200);
      expect(latest.text).toContain('On second thoughts, my own words.');
      expect(latest.text).not.toContain(aWriter.ownWords);

      await confirm(agent, confirmPath(second));
      await t.smtp!.waitFor(3);
      const again = await write(agent, { ...aWriter, email: 'jdoe@gmail.com' });
      expect(again.headers.location).toBe(await checkEmailFor('IT'));
      await t.smtp!.waitFor(4);
      const reminders = t.smtp!.mails.filter((m) => m.subject === `Your letter: ${demandTitle}`);
      expect(reminders).toHaveLength(1);
      expect(statusPath(reminders[0])).toBe(statusPath(second));
      expect(await letterRows()).toHaveLength(1);

      // Another demand the same day is another letter; the same demand the next day too.
      await write(agent, { ...aWriter, email: 'jdoe@gmail.com' }, undefined, 'civic-freedoms');
      now += day;
      await write(agent, { ...aWriter, email: 'jdoe@gmail.com' });
      expect(await letterRows()).toHaveLength(3);
    });

    describe('no enumeration (SECURITY 17)', () => {
      /** What a stranger sees when writing with an address: the answer, and the page it leads to. */
      async function answerTo(fields: Fields) {
        const agent = t.agent();
        const res = await write(agent, fields);
        const page = await agent.get(res.headers.location ?? '/');
        const headers = Object.keys(res.headers)
          .filter((h) => h !== 'date')
          .sort();
        return { status: res.status, location: res.headers.location, headers, body: res.text, page: page.text };
      }

      /** Confirms the letter (or says it is sent, for one sent oneself) from the latest mail to Ada. */
      async function ownerConfirms(by: string) {
        const mail = mailsTo(aWriter.email!).at(-1);
        const agent = t.agent();
        if (by === 'self') {
          await agent.get(statusPath(mail)).expect(200);
          await agent
            .post(`${statusPath(mail)}/self-sent`)
            .type('form')
            .send({});
        } else await confirm(agent, confirmPath(mail));
      }

      // Italy by email; France (no address) sent by the writer, as they chose; Germany in the next pack.
      const ways = [
        ['IT', 'email'],
        ['FR', 'self'],
        ['DE', 'post'],
      ];

      it.each(ways)(
        'answers every letter to %s (%s) alike, whether its address never wrote, wrote today, or confirmed today',
        async (country, by) => {
          const writer = { ...aWriter, country, lang: 'en', delivery: by };
          const answers = [await answerTo({ ...writer, email: 'someone.else@example.org' })];
          answers.push(await answerTo(writer));
          await t.smtp!.waitFor(2);
          answers.push(await answerTo(writer));
          await t.smtp!.waitFor(3);
          await ownerConfirms(by);
          expect((await letterRows()).map((l) => l.state)).toContain(by === 'self' ? 'self_sent' : 'ready');
          answers.push(await answerTo(writer));
          expect(answers[0]!.status).toBe(303);
          expect(answers[0]!.location).toBe(`${await checkEmailFor(country)}${by === 'self' ? '&by=self' : ''}`);
          for (const answer of answers) expect(answer).toEqual(answers[0]);
        },
      );

      it.each(ways)(
        'does not let a stranger who wrote first with an address keep its owner from writing to %s (%s) that day',
        async (country, by) => {
          const probe = {
            ...aWriter,
            country,
            delivery: by,
            lang: 'en',
            name: 'Not Ada',
            ownWords: 'Words that Ada never wrote, not at all.',
          };
          await write(t.agent(), probe);
          const [probeMail] = await t.smtp!.waitFor(1);
          await write(t.agent(), { ...aWriter, country, lang: 'en', delivery: by });
          const [, ownMail] = await t.smtp!.waitFor(2);
          expect(await letterRows()).toHaveLength(1);
          // The stranger's version is gone: its link no longer works, and Ada's mail leads to her own letter.
          const probeLink = by === 'self' ? statusPath(probeMail) : confirmPath(probeMail);
          await t.agent().get(probeLink).expect(404);
          const ownLink = by === 'self' ? statusPath(ownMail) : confirmPath(ownMail);
          const own = unescapeHtml((await t.agent().get(ownLink).expect(200)).text);
          expect(own).toContain(aWriter.ownWords);
          expect(own).not.toContain(probe.ownWords);
          expect(own).not.toContain('Not Ada');
          expect(ownMail!.text).toMatch(/^Dear Ada Lovelace,$/m);

          await ownerConfirms(by);
          await settle();
          if (by === 'email') {
            const [letter] = mailsTo(italy);
            expect(letter!.text).toContain(aWriter.ownWords);
            expect(letter!.text).not.toContain(probe.ownWords);
          } else {
            const [letter] = await letterRows();
            expect(letter).toMatchObject({ state: by === 'self' ? 'self_sent' : 'ready', delivery: by });
            expect(await value(t, 'SELECT own_words FROM letter_texts')).toBe(aWriter.ownWords);
          }
        },
      );

      it('confirms only the version its link was mailed for, even if a stranger writes in that instant', async () => {
        await write(t.agent());
        const [mail] = await t.smtp!.waitFor(1);
        const token = confirmPath(mail).split('/')[2]!;
        const { letters } = t.services;
        const demand = (await letters.demand(slug, 'en'))!;
        const probe = {
          country: 'IT',
          target: '',
          name: 'Not Ada',
          email: aWriter.email!,
          town: '',
          ownWords: 'Words that Ada never wrote, not at all.',
          lang: 'en' as const,
          copy: false,
          noFollowUp: false,
          delivery: 'post' as const,
        };
        // The stranger's letter reaches the database first, in the same instant as Ada's Confirm.
        // SQLite: while another transaction holds the database, the stranger's write queues up, then
        // Ada's Confirm reads the letter (outside any transaction) and queues its own, after it.
        // PostgreSQL runs them side by side: another transaction holds the letter's row, the stranger's
        // rewrite waits for it, Ada's Confirm reads the old version and its move waits behind the
        // rewrite; once the row is let go the rewrite commits first, and the move must find nothing.
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const { store } = t.services;
        const letterId = Number(token.split('.')[0]);
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holding = store.transaction(async (tx) => {
          if (postgresUrl) await tx.run(sql`SELECT id FROM letters WHERE id = ${letterId} FOR UPDATE`);
          locked();
          await held;
        });
        await isLocked;
        const waiting = async (n: number) => {
          if (!postgresUrl) return new Promise((resolve) => setImmediate(resolve));
          return until(
            async () =>
              Number(
                (await store.first(sql<{ n: number }>`SELECT count(*) AS n FROM pg_locks WHERE NOT granted`))!.n,
              ) >= n,
            `${n} transactions waiting for the letter's row`,
          );
        };
        const submitted = letters.submit(demand, probe, undefined, '192.0.2.1', 'en');
        await waiting(1);
        const confirming = letters.confirm(token);
        await waiting(2);
        release();
        const [, , confirmed] = await Promise.all([holding, submitted, confirming]);
        expect(confirmed).toEqual({ status: 'unknown' });
        await settle();
        expect(mailsTo(italy)).toHaveLength(0);
        expect((await letterRows()).map((l) => l.state)).toEqual(['pending']);
      });
    });

    it('silently refuses letters over the per-IP limit: same answer, nothing stored, nothing mailed', async () => {
      const agent = t.agent();
      for (let i = 0; i < 6; i++) {
        const res = await write(agent, { ...aWriter, email: `person${i}@example.org` });
        expect(res.headers.location).toBe(await checkEmailFor('IT'));
      }
      await t.smtp!.waitFor(5);
      await settle();
      expect(t.smtp!.mails).toHaveLength(5);
      expect(await letterRows()).toHaveLength(5);
    });

    it('expires a letter left unconfirmed for 7 days: its link says so and sends nothing', async () => {
      const agent = t.agent();
      await write(agent);
      await write(agent, { ...aWriter, email: 'second@example.org' });
      const [first, second] = await t.smtp!.waitFor(2);
      now += 7 * day - 60_000;
      expect((await agent.get(confirmPath(first)).expect(200)).text).toContain('Confirm and send my letter');
      now += 2 * 60_000;
      const expired = await agent.get(confirmPath(first)).expect(410);
      expect(expired.text).toContain('This link has expired');
      await agent.post(confirmPath(first)).type('form').send({}).expect(410);
      const status = await agent.get(statusPath(first)).expect(200);
      expect(stateOn(status.text)).toBe('expired');
      // The sweep expires the others without anyone looking.
      expect((await letterRows()).map((l) => l.state)).toEqual(['expired', 'pending']);
      expect(await t.services.letters.expireStale()).toBe(1);
      expect((await letterRows()).map((l) => l.state)).toEqual(['expired', 'expired']);
      await settle();
      expect(t.smtp!.mails).toHaveLength(2);
      // The second writer's link, mailed before the sweep, now says the letter expired too.
      expect(second!.to).toMatchObject({ text: 'second@example.org' });
      expect((await agent.get(confirmPath(second)).expect(410)).text).toContain('This link has expired');
    });
  });

  describe('the email domain block list', () => {
    let listed: TestApp;
    beforeEach(async () => {
      listed = await createTestApp({ env: { BLOCKED_EMAIL_DOMAINS: 'mailinator.com' } });
    });
    afterEach(() => listed.close());

    it('refuses letters from a blocked domain and its subdomains silently, and only those', async () => {
      for (const email of ['x@mailinator.com', 'x@sub.mailinator.com', 'X@Deep.Sub.Mailinator.COM']) {
        await writeOn(listed, { ...aWriter, email });
      }
      await writeOn(listed, { ...aWriter, email: 'ann@notmailinator.com' });
      await listed.smtp!.waitFor(1);
      await listed.services.sender.drain();
      expect(listed.smtp!.mails.map((m) => m.to && 'text' in m.to && m.to.text)).toEqual(['ann@notmailinator.com']);
      expect(await column(listed, 'SELECT email FROM letters')).toEqual(['ann@notmailinator.com']);
    });
  });

  describe('the mail cap', () => {
    // Rate limits far above the cap: what stops the mails here is the cap itself.
    let roomy: TestApp;
    beforeEach(async () => {
      roomy = await createTestApp({ env: { LETTER_LIMIT_PER_MINUTE: '100', LETTER_LIMIT_PER_5_MINUTES: '100' } });
    });
    afterEach(() => roomy.close());

    it('sends at most 5 mails for one letter, however often it is written again that day', async () => {
      for (let i = 0; i < 8; i++) await writeOn(roomy, { ...aWriter, email: `ada+${i}@example.org` });
      await roomy.services.sender.idle();
      await roomy.services.sender.drain();
      expect(roomy.smtp!.mails).toHaveLength(5);
      expect(roomy.smtp!.mails.every((m) => m.to && 'text' in m.to && m.to.text.startsWith('ada+'))).toBe(true);
      expect(await value(roomy, 'SELECT count(*) AS n FROM letters')).toBe(1);
    });
  });

  describe('near-duplicate letters', () => {
    let crowd: TestApp;
    beforeEach(async () => {
      crowd = await createTestApp({ env: { LETTER_LIMIT_PER_MINUTE: '100', LETTER_LIMIT_PER_5_MINUTES: '100' } });
    });
    afterEach(() => crowd.close());

    const campaign = 'Stop the cuts now! Tax the rich, not the sick and the poor; hospitals before bombs.';
    const variants = [
      campaign,
      campaign.toUpperCase(),
      `  ${campaign.replace(/[!;,.]/g, '')}  `,
      campaign.replace(/ /g, '  '),
      `${campaign}!!!`,
      campaign.toLowerCase(),
    ];

    const writeAndConfirm = (email: string, ownWords: string) =>
      writeAndConfirmOn(crowd, { ...aWriter, email, ownWords });

    it('holds the sixth letter whose words are nearly those of five others, and the CLI releases or drops it', async () => {
      for (let i = 0; i < 5; i++) await writeAndConfirm(`crowd${i}@example.org`, variants[i]!);
      const held = await writeAndConfirm('crowd5@example.org', variants[5]!);
      const different = await writeAndConfirm(
        'own@example.org',
        'I teach in a school whose roof has leaked for three winters now.',
      );
      const another = await writeAndConfirm('crowd6@example.org', campaign);
      await crowd.services.sender.idle();
      await crowd.services.sender.drain();

      expect(await rows(crowd, 'SELECT id, email, state, hold_reason AS reason FROM letters ORDER BY id')).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => expect.objectContaining({ email: `crowd${i}@example.org`, state: 'sent' })),
        expect.objectContaining({ id: 6, email: 'crowd5@example.org', state: 'held', reason: 'similar' }),
        expect.objectContaining({ email: 'own@example.org', state: 'sent' }),
        expect.objectContaining({ id: 8, email: 'crowd6@example.org', state: 'held' }),
      ]);
      const toItaly = () => crowd.smtp!.mails.filter((m) => m.to && 'text' in m.to && m.to.text === italy);
      expect(toItaly()).toHaveLength(6);
      const page = await held.agent.get(held.status).expect(200);
      expect(stateOn(page.text)).toBe('held');
      expect(page.text).toContain('an organiser will read yours before it is sent');
      // A letter in the writer's own words goes out, held by nobody.
      expect(stateOn((await different.agent.get(different.status)).text)).toBe('sent');

      const out: string[] = [];
      expect(await runLettersCli(['--held'], crowd.services.letters, (l) => out.push(l))).toBe(0);
      expect(out).toHaveLength(2);
      expect(out[0]).toMatch(/^#6 .* progressive-taxation {2}IT {2}Ada Lovelace {2}\(similar\) {2}“stop the cuts now/);

      expect(await runLettersCli(['--release', '6'], crowd.services.letters, (l) => out.push(l))).toBe(0);
      expect(await runLettersCli(['--drop', '8'], crowd.services.letters, (l) => out.push(l))).toBe(0);
      expect(await runLettersCli(['--release', '8'], crowd.services.letters, (l) => out.push(l))).toBe(1);
      expect(await runLettersCli(['--release', '1'], crowd.services.letters, (l) => out.push(l))).toBe(1);
      expect(await runLettersCli(['--bogus'], crowd.services.letters, (l) => out.push(l))).toBe(2);
      expect(out.slice(2)).toEqual([
        'Letter #6 released: it is queued for delivery.',
        'Letter #8 dropped: it will not be sent.',
        'Letter #8 is dropped, not held: nothing changed.',
        'Letter #1 is sent, not held: nothing changed.',
        expect.stringContaining('Usage:'),
      ]);
      crowd.services.sender.wake();
      await crowd.smtp!.waitFor(crowd.smtp!.mails.length + 1);
      await crowd.services.sender.idle();
      expect(toItaly()).toHaveLength(7);
      expect(stateOn((await held.agent.get(held.status)).text)).toBe('sent');
      expect(stateOn((await another.agent.get(another.status)).text)).toBe('dropped');
      const demand = await crowd.agent().get(`/demands/${slug}`);
      expect(demand.text).toContain('Delivered by email: 7');
    });

    it('counts only confirmed letters: five unconfirmed copies do not get a real letter held', async () => {
      for (let i = 0; i < 5; i++) {
        await writeOn(crowd, { ...aWriter, email: `throwaway${i}@example.org`, ownWords: variants[i]! });
      }
      await writeAndConfirm('real@example.org', variants[5]!);
      await crowd.services.sender.idle();
      const states = await rows(crowd, 'SELECT email, state FROM letters ORDER BY id');
      expect(states).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => ({ email: `throwaway${i}@example.org`, state: 'pending' })),
        { email: 'real@example.org', state: 'sent' },
      ]);
    });
  });

  describe('the honeypot', () => {
    it('stops a bot that fills it on the first form: nothing stored, nothing mailed, the same answer', async () => {
      const agent = t.agent();
      const res = await preview(agent, { ...aWriter, website: 'http://spam.example' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(await checkEmailFor('IT'));
      await t.services.sender.drain();
      expect(t.smtp!.mails).toHaveLength(0);
      expect(await value(t, 'SELECT count(*) AS n FROM letters')).toBe(0);
    });
  });

  describe("a delegation's address changing while a letter waits to be sent", () => {
    const italy = 'rappnat.mail@esteri.it';

    /** Confirmed while delivery is paused: the letter is ready, and waits in the outbox. */
    async function confirmedWhileDeliveryIsPaused() {
      const agent = t.agent();
      expect((await write(agent)).status).toBe(303);
      const [mail] = await t.smtp!.waitFor(1);
      await t.services.store.run(sql`INSERT INTO outbox_pause (id, reason, paused_at) VALUES (1, 'test', 0)`);
      expect((await confirm(agent, confirmPath(mail))).status).toBe(303);
      await t.services.sender.idle();
      expect((await letterRows())[0]).toMatchObject({ state: 'ready' });
    }

    it('goes to the corrected address', async () => {
      await confirmedWhileDeliveryIsPaused();
      await setTargetEmailIn(t.services.store, 'IT', 'corrected@esteri.example');
      expect(await t.services.sender.resume()).toBe(true);
      await settle();
      expect(t.smtp!.envelopes.filter((to) => to.includes(italy))).toEqual([]);
      expect(mailsTo('corrected@esteri.example')).toHaveLength(1);
      expect((await letterRows())[0]).toMatchObject({ state: 'sent' });
    });

    it.each([
      ['its address is removed', null],
      ['it asks for paper', 'force_post'],
    ])('joins the next hand-in pack when %s: ready, by post, and nothing mailed to it', async (_, change) => {
      await confirmedWhileDeliveryIsPaused();
      if (change === 'force_post') {
        await t.services.store.run(sql`UPDATE targets SET force_post = 1 WHERE country_code = 'IT' AND is_default = 1`);
      } else await setTargetEmailIn(t.services.store, 'IT', null);
      expect(await t.services.sender.resume()).toBe(true);
      await settle();
      expect(t.smtp!.envelopes.filter((to) => to.includes(italy))).toEqual([]);
      expect((await letterRows())[0]).toMatchObject({ state: 'ready', delivery: 'post', holdReason: null });
      expect(await value(t, "SELECT count(*) AS n FROM letters WHERE state = 'held'")).toBe(0);
    });
  });

  describe('in the organiser console', () => {
    it('lists held letters for organisers to release or drop, and counts letters on the dashboard', async () => {
      const crowd = await createTestApp({ env: { LETTER_HOLD_THRESHOLD: '1' } });
      try {
        const words = 'Stop the cuts now! Tax the rich, not the sick and the poor; hospitals before bombs.';
        for (const [i, email] of ['one@example.org', 'two@example.org', 'three@example.org'].entries()) {
          await writeAndConfirmOn(crowd, { ...aWriter, email, name: `Writer ${i}`, ownWords: words });
        }
        await crowd.services.sender.idle();
        const states = () => column(crowd, 'SELECT state FROM letters ORDER BY id');
        expect(await states()).toEqual(['sent', 'held', 'held']);

        await createAccount(crowd.services, 'viewer@example.org', 'viewer');
        const viewer = crowd.agent();
        await login(viewer, 'viewer@example.org');
        const list = await viewer.get('/admin/letters/held').expect(200);
        expect(list.text).toContain('Writer 1');
        expect(list.text).toContain('Near-duplicate of many others');
        expect(list.text).not.toContain('/release'); // a viewer reads, and cannot decide

        await createAccount(crowd.services, 'organiser@example.org', 'organiser');
        const organiser = crowd.agent();
        await login(organiser, 'organiser@example.org');
        const token = await consoleToken(organiser, '/admin/letters/held');
        await organiser.post('/admin/letters/2/release').type('form').send({ _csrf: token }).expect(303);
        await organiser.post('/admin/letters/3/drop').type('form').send({ _csrf: token }).expect(303);
        await crowd.services.sender.drain();
        await crowd.services.sender.idle();
        expect(await states()).toEqual(['sent', 'sent', 'dropped']);
        const actions = () => column(crowd, "SELECT action FROM audit_log WHERE action LIKE 'letters.%' ORDER BY id");
        // Each look at the list (the viewer's, the organiser's) and each decision.
        expect(await actions()).toEqual(['letters.held', 'letters.held', 'letters.release', 'letters.drop']);
        const viewed = await rows(
          crowd,
          `SELECT o.email, a.details FROM audit_log a JOIN organisers o ON o.id = a.organiser_id
           WHERE a.action = 'letters.held' ORDER BY a.id`,
        );
        expect(viewed).toEqual([
          { email: 'viewer@example.org', details: '{"count":2}' },
          { email: 'organiser@example.org', details: '{"count":2}' },
        ]);

        const petition = (await crowd.services.store.first(
          sql<{
            slug: string;
          }>`SELECT p.slug FROM petitions p JOIN demands d ON d.id = p.demand_id WHERE d.slug = ${slug}`,
        ))!.slug;
        const dashboard = await organiser.get(`/admin?petition=${petition}`).expect(200);
        expect(dashboard.text).toContain('2 sent by us, 0 sent by supporters themselves.');
        expect(dashboard.text).toMatch(/<th scope="row">Italy<\/th><td class="num">2<\/td>/);
      } finally {
        await crowd.close();
      }
    });
  });

  describe('GET /demands/:slug', () => {
    it('reads the per-country counters, never COUNT(*)', async () => {
      const statements: string[] = [];
      const traced = await createTestApp({ traceSql: (sql) => statements.push(sql) });
      try {
        statements.length = 0;
        const page = await traced.agent().get(`/demands/${slug}`).expect(200);
        expect(page.text).toContain(demandTitle);
        expect(page.text).toContain('No letters have been sent yet');
        expect(page.text).toContain(`href="/demands/${slug}/letters/new"`);
        expect(statements.some((sql) => /letter_country_counts/.test(sql))).toBe(true);
        expect(statements.filter((sql) => /count\(/i.test(sql))).toEqual([]);
      } finally {
        await traced.close();
      }
    });
  });

  describe('erasure', () => {
    it("an erasure request removes the person's letters from every table, and the counts stay", async () => {
      const agent = t.agent();
      const writer = { ...aWriter, name: 'Hedy Lamarr-Erase', email: 'Hedy.Erase@example.org' };
      expect((await write(agent, writer)).status).toBe(303);
      const [mail] = await t.smtp!.waitFor(1);
      await confirm(agent, confirmPath(mail));
      await t.smtp!.waitFor(2);
      await t.services.sender.idle();
      const counted = () => value(t, 'SELECT sum(sent) AS n FROM letter_country_counts');
      expect(await counted()).toBe(1);

      const rows = await t.services.admin.erasure.erase('hedy.erase@example.org');
      expect(rows.letters).toBe(1);

      const traces = await tracesOf(t.services.store, [
        'hedy.erase@example.org',
        'hedy lamarr-erase',
        'my mother waited',
      ]);
      expect(traces).toEqual([]);
      expect(await counted()).toBe(1); // a count names nobody
    });
  });
});
