import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { until } from '../helpers/until';
import { unescapeHtml } from '../helpers/letters';

const italy = 'rappnat.mail@esteri.it';
const minute = 60 * 1000;
const day = 24 * 60 * minute;

type Fields = Record<string, string>;

const ada: Fields = {
  country: 'IT',
  name: 'Ada Lovelace',
  email: 'ada@example.org',
  town: 'London',
  ownWords: 'My mother waited two years for an operation in a public hospital.',
  lang: 'en',
};

const stranger = (i: number): Fields => ({
  ...ada,
  name: 'Not Ada',
  town: '',
  ownWords: `Words that Ada never wrote, version ${i}.`,
});

/** Every link to one of our letter pages in a mail (to confirm one, or to open it). */
function letterLinks(mail: ParsedMail): string[] {
  return [...(mail.text ?? '').matchAll(/http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27}(?:\/confirm)?)/g)].map(
    (m) => m[1]!,
  );
}

describe('letters written with someone else’s address', () => {
  let t: TestApp;
  let now: number;

  async function open(env: Record<string, string> = {}) {
    now = Date.UTC(2026, 2, 10, 9, 0, 0);
    t = await createTestApp({ clock: () => now, env });
  }
  afterEach(() => t.close());

  /** Form → preview → send, as a browser would; answers with what the writer is shown. */
  async function write(fields: Fields, demand = 'progressive-taxation') {
    const agent = t.agent();
    await agent.get(`/demands/${demand}/letters/new`).expect(200);
    const page = await agent.post(`/demands/${demand}/letters/preview`).type('form').send(fields).expect(200);
    const body = unescapeHtml(/<textarea id="field-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(page.text)![1]!);
    const res = await agent
      .post(`/demands/${demand}/letters`)
      .type('form')
      .send({ ...fields, body });
    return { status: res.status, location: res.headers.location };
  }

  const mailsTo = (address: string) => t.smtp!.mails.filter((m) => m.to && 'text' in m.to && m.to.text === address);
  const settle = async () => {
    await t.services.sender.idle();
    await t.services.sender.drain();
  };

  describe('at the mail cap of one letter', () => {
    beforeEach(() => open());

    it('still replaces a stranger’s unconfirmed letter with its owner’s, so nothing of the stranger’s can be confirmed', async () => {
      // Five versions from one address (the per-IP limit allows five a minute): five mails to Ada.
      const answers = [];
      for (let i = 1; i <= 5; i++) answers.push(await write(stranger(i)));
      await t.smtp!.waitFor(5);
      // Ada writes a minute later: she is answered as everyone is, and over the cap nothing is mailed…
      now += minute + 1;
      answers.push(await write(ada));
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      expect(answers[0]).toMatchObject({ status: 303, location: expect.stringContaining('/letters/check-email?to=') });
      await settle();
      expect(mailsTo(ada.email!)).toHaveLength(5);

      // …but the stranger's words are gone: no link in her mailbox leads to them or confirms anything.
      const links = mailsTo(ada.email!).flatMap(letterLinks);
      expect(links.filter((l) => l.endsWith('/confirm'))).toHaveLength(5);
      for (const link of links) {
        const page = await t.agent().get(link);
        expect(page.status).toBe(404);
        expect(page.text).not.toContain('Words that Ada never wrote');
      }
      const last = links.filter((l) => l.endsWith('/confirm')).at(-1)!;
      const agent = t.agent();
      await agent.get('/demands/progressive-taxation/letters/new');
      await agent.post(last).type('form').send({}).expect(404);
      await settle();
      expect(mailsTo(italy)).toHaveLength(0);
      const stored = await t.services.store.all(
        t.services.store.qb
          .selectFrom('letters as l')
          .innerJoin('letter_texts as x', 'x.letter_id', 'l.id')
          .select(['l.name', 'l.state', 'x.own_words as ownWords']),
      );
      expect(stored).toEqual([{ name: 'Ada Lovelace', state: 'pending', ownWords: ada.ownWords }]);

      // The next day she writes again and gets her own link.
      now += day;
      await write(ada);
      const [mail] = await t.smtp!.waitFor(6).then((all) => all.slice(5));
      expect(mail!.text).toMatch(/^Dear Ada Lovelace,$/m);
      const own = await t
        .agent()
        .get(letterLinks(mail!).find((l) => l.endsWith('/confirm'))!)
        .expect(200);
      expect(unescapeHtml(own.text)).toContain(ada.ownWords);
    });
  });

  describe('the mail cap of one address', () => {
    // Rate limits far above the caps: what stops the mails here is the cap itself.
    beforeEach(() => open({ LETTER_LIMIT_PER_MINUTE: '100', LETTER_LIMIT_PER_5_MINUTES: '100' }));

    it('mails one address at most 10 letter mails a day, whatever the demand and delegation, and answers alike', async () => {
      const demands = ['progressive-taxation', 'civic-freedoms', 'keep-weapons-bans'];
      const countries = ['IT', 'FR', 'DE', 'ES', 'PL'];
      const answers: Array<{ demand: string; country: string; answer: Awaited<ReturnType<typeof write>> }> = [];
      for (const demand of demands) {
        for (const country of countries) {
          // The same canonical address however it is typed.
          const email = `Victim+${demand}.${country}@Example.org`;
          answers.push({ demand, country, answer: await write({ ...stranger(1), country, email }, demand) });
        }
      }
      await t.smtp!.waitFor(10);
      await settle();
      const toVictim = () => t.smtp!.mails.filter((m) => m.to && 'text' in m.to && /^victim\+/i.test(m.to.text));
      expect(toVictim()).toHaveLength(10);
      expect(t.smtp!.mails).toHaveLength(10);
      expect(await t.services.store.first(sql`SELECT count(*) AS n FROM letters`)).toEqual({ n: 15 });
      // Over the cap as under it, the answer is the one an address that never wrote gets (SECURITY 17).
      for (const { demand, country, answer } of answers) {
        expect(answer).toEqual(await write({ ...stranger(1), country, email: `fresh.${demand}@example.net` }, demand));
      }
      expect(answers[0]!.answer).toMatchObject({ status: 303, location: expect.stringContaining('/check-email?to=') });
      await settle();
      expect(toVictim()).toHaveLength(10);

      // Another address is not held back by it, and the next day the victim can write again.
      await write({ ...ada, email: 'someone@example.org' });
      now += day;
      await write({ ...ada, email: 'victim@example.org' });
      await until(
        () => mailsTo('someone@example.org').length === 1 && mailsTo('victim@example.org').length === 1,
        'a mail to each',
      );
    });
  });

  describe('the pages and mail that show a letter nobody has confirmed yet', () => {
    beforeEach(() => open());

    const phishing =
      'Your account is locked: verify it at https://paypal-help.example/login or www.paypal-help.example now.';
    const mailNotice =
      "Someone — hopefully you — wrote this letter on Undersigned and gave this address. If it wasn't you, ignore this email; nothing is sent or counted.";
    const pageNotice =
      "Someone — hopefully you — wrote this letter on Undersigned and gave your email address. If it wasn't you, leave this page: nothing is sent or counted.";
    /** Every href on a page, as the browser reads it. */
    const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => unescapeHtml(m[1]!));

    it('says the letter may be a stranger’s, on the page to send it oneself and in its mail, and links none of its addresses', async () => {
      await write({ ...ada, country: 'FR', ownWords: phishing, delivery: 'self' });
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.text).toContain(mailNotice);
      expect(unescapeHtml(mail!.html || '')).toContain(mailNotice);
      expect(`${mail!.text}${mail!.html}`).not.toContain('paypal-help');

      const link = letterLinks(mail!)[0]!;
      const agent = t.agent();
      const page = await agent.get(link).expect(200);
      expect(unescapeHtml(page.text)).toContain(pageNotice);
      expect(unescapeHtml(page.text)).toContain(phishing); // shown as text, in the letter
      expect(page.text).not.toMatch(/<a [^>]*>[^<]*paypal-help/);
      // The one place the words go is the mailto: subject and body, to no one, with nothing else.
      const mailtos = hrefs(page.text).filter((h) => h.includes('paypal-help'));
      expect(mailtos).toHaveLength(1);
      const mailto = new URL(mailtos[0]!);
      expect(mailto.protocol).toBe('mailto:');
      expect(mailto.pathname).toBe('');
      expect([...mailto.searchParams.keys()]).toEqual(['subject', 'body']);
      expect(mailto.searchParams.get('body')).toContain(phishing);
      const print = await t.agent().get(`${link}/print`).expect(200);
      expect(hrefs(print.text).filter((h) => h.includes('paypal-help'))).toEqual([]);

      // Once the mailbox's owner says it is sent, the letter is theirs: no more warning.
      await agent.post(`${link}/self-sent`).type('form').send({}).expect(303);
      expect(unescapeHtml((await agent.get(link).expect(200)).text)).not.toContain(pageNotice);
    });

    it('says so on the page to confirm a letter and in its mail, until it is confirmed', async () => {
      await write({ ...ada, ownWords: phishing });
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.text).toContain(mailNotice);
      const [status, confirm] = letterLinks(mail!).sort(); // the status link sorts before its /confirm
      const agent = t.agent();
      const page = await agent.get(confirm!).expect(200);
      expect(unescapeHtml(page.text)).toContain(pageNotice);
      expect(page.text).not.toMatch(/<a [^>]*>[^<]*paypal-help/);
      expect(hrefs(page.text).filter((h) => h.includes('paypal-help'))).toEqual([]);
      expect(unescapeHtml((await agent.get(status!).expect(200)).text)).toContain(pageNotice);

      await agent.post(confirm!).type('form').send({}).expect(303);
      const confirmed = await agent.get(status!).expect(200);
      expect(confirmed.text).toContain('data-state="ready"');
      expect(unescapeHtml(confirmed.text)).not.toContain(pageNotice);
    });
  });
});
