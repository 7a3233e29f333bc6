import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import type TestAgent from 'supertest/lib/agent';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { letterDemand as slug, unescapeHtml } from '../helpers/letters';
import { createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';

const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';
type Fields = Record<string, string>;

const aWriter: Fields = {
  country: 'DE',
  name: 'Γιώργος Παπαδόπουλος',
  email: 'giorgos@example.org',
  town: 'Θεσσαλονίκη',
  ownWords: 'My sister is a nurse and her ward lost two posts this year.',
  lang: 'en',
};

/** The hidden fields of a page's forms, last one winning, as a browser posting them would send them. */
const hiddenOn = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1]!, unescapeHtml(m[2]!)]),
  );
const letterTextOn = (html: string) =>
  unescapeHtml(/<textarea id="field-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!);
const linkIn = (mail: ParsedMail | undefined, confirm: boolean) => {
  const match = new RegExp(`http://localhost:3000(/letters/\\d+\\.[\\w-]{27}${confirm ? '/confirm' : ''})(?=\\s)`).exec(
    mail?.text ?? '',
  );
  if (!match) throw new Error(`no link in: ${mail?.text}`);
  return match[1]!;
};
const checked = (html: string, value: string) =>
  new RegExp(`name="delivery" type="radio" value="${value}"[^>]* checked`).test(html);

describe('letters to a delegation without an email: the hand-in pack', () => {
  let t: TestApp;
  let now: number;
  beforeEach(async () => {
    now = Date.UTC(2026, 2, 10, 9, 0, 0);
    t = await createTestApp({ clock: () => now });
  });
  afterEach(() => t.close());

  const rows = (query: string) => t.services.store.all(sql.raw<Record<string, unknown>>(query));
  const letterRows = () =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('letters')
        .select(['id', 'state', 'delivery', 'sent_at as sentAt', 'locale'])
        .orderBy('id'),
    );
  const outboxKinds = async () => (await rows('SELECT kind FROM outbox ORDER BY id')).map((r) => r.kind);
  /** The first mail to `address`, once it has arrived. */
  const mailTo = async (address: string) => {
    const isTo = (m: ParsedMail) => !!m.to && 'text' in m.to && m.to.text === address;
    while (!t.smtp!.mails.some(isTo)) await t.smtp!.waitFor(t.smtp!.mails.length + 1);
    return t.smtp!.mails.find(isTo);
  };
  const settle = async () => {
    await t.services.sender.idle();
    await t.services.sender.drain();
  };

  async function preview(agent: TestAgent, fields: Fields = aWriter, lang = 'en') {
    await agent.get(`/demands/${slug}/letters/new?lang=${lang}`).expect(200);
    return agent.post(`/demands/${slug}/letters/preview?lang=${lang}`).set(sameOrigin).type('form').send(fields);
  }

  /** Form → preview → (a choice of delivery on the preview) → send, as a browser would. */
  async function write(agent: TestAgent, fields: Fields = aWriter, delivery?: 'post' | 'self', lang = 'en') {
    const page = await preview(agent, fields, lang);
    expect(page.status).toBe(200);
    const sent = {
      ...fields,
      ...hiddenOn(page.text),
      ...(delivery ? { delivery } : {}),
      body: letterTextOn(page.text),
    };
    return agent.post(`/demands/${slug}/letters?lang=${lang}`).set(sameOrigin).type('form').send(sent);
  }

  async function confirm(agent: TestAgent, path: string) {
    const page = await agent.get(path).expect(200);
    await agent.post(path).set(sameOrigin).type('form').send({}).expect(303);
    return page;
  }

  /** A hand-in pack of the demand's petition for Germany's delegation, holding these letters. */
  async function packOf(letterIds: number[]): Promise<number> {
    const petition = (await t.services.store.first(
      sql<{ id: number }>`SELECT p.id FROM petitions p JOIN demands d ON d.id = p.demand_id WHERE d.slug = ${slug}`,
    ))!.id;
    const target = (await t.services.store.first(
      sql<{ id: number }>`SELECT id FROM targets WHERE country_code = 'DE' AND is_default = 1`,
    ))!.id;
    const batch = (await t.services.store.first(
      t.services.store.qb
        .insertInto('batches')
        .values({
          petition_id: petition,
          target_id: target,
          signature_count: 0,
          running_total: 0,
          created_at: now,
          channel: 'post',
          letter_count: letterIds.length,
        })
        .returning('id'),
    ))!.id;
    for (const id of letterIds) {
      await t.services.store.run(
        t.services.store.qb.insertInto('batch_letters').values({ letter_id: id, batch_id: batch }),
      );
    }
    return batch;
  }

  const handIn = (batch: number, handedInAt = now) =>
    t.services.store.transaction((tx) => t.services.letters.lettersHandedIn(tx, batch, now, handedInAt));
  const undo = (batch: number) =>
    t.services.store.transaction((tx) => t.services.letters.lettersHandInUndone(tx, batch, now));
  const demandTotals = async () => {
    const page = unescapeHtml((await t.agent().get(`/demands/${slug}`).expect(200)).text);
    return {
      email: /Delivered by email: (\d+)/.exec(page)?.[1],
      pack: /Handed in with a pack of signatures: (\d+)/.exec(page)?.[1],
      self: /Sent by supporters themselves: (\d+)/.exec(page)?.[1],
      row: (country: string) =>
        new RegExp(`<th scope="row">${country}</th><td>(\\d+)</td><td>(\\d+)</td><td>(\\d+)</td>`)
          .exec(page)
          ?.slice(1)
          .map(Number),
    };
  };

  describe('the form, before anyone writes', () => {
    it('says how each delegation receives letters, without script, and which way the chosen one does', async () => {
      const form = unescapeHtml((await t.agent().get(`/demands/${slug}/letters/new`).expect(200)).text);
      expect(form).not.toContain('Your letter goes, in your name, to the NATO delegation you choose');
      expect(form).toContain("by email where we know the delegation's address, otherwise printed and handed in");
      expect(form).toContain('By email: Italy.');
      const onPaper = /Printed and handed in with the next pack of signatures at NATO Headquarters: ([^<]+)\./.exec(
        form,
      )!;
      expect(onPaper[1]).toContain('Germany');
      expect(onPaper[1]).toContain('France');
      expect(onPaper[1]).not.toContain('Italy');
      expect(form).toContain('<option value="IT" data-channel="email">Italy</option>');
      expect(form).toContain('<option value="DE" data-channel="post">Germany</option>');
      // No country chosen yet: the one sentence is empty until one is (script, or the page written for it).
      expect(form).toMatch(/<p class="hint channel-note" id="field-country-channel"[^>]*><\/p>/);
      // The script is a file of the site's own (the CSP allows no inline script).
      expect(form).toContain('<script src="/assets/letter-channel.js" defer></script>');
      expect(form).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const script = await t.agent().get('/assets/letter-channel.js').expect(200);
      expect(script.text).toContain("getAttribute('data-channel')");

      const forGermany = unescapeHtml((await t.agent().get(`/demands/${slug}/letters/new?country=DE`)).text);
      expect(forGermany).toMatch(
        /id="field-country-channel"[^>]*>This delegation receives letters on paper: yours is printed and handed in with the next pack/,
      );
      const forItaly = unescapeHtml((await t.agent().get(`/demands/${slug}/letters/new?country=IT`)).text);
      expect(forItaly).toMatch(/id="field-country-channel"[^>]*>This delegation receives your letter by email\.</);
    });

    it('lists a delegation that asked for paper with the pack, though it has an email', async () => {
      await t.services.store.run(sql`UPDATE targets SET force_post = 1 WHERE country_code = 'IT'`);
      const form = unescapeHtml((await t.agent().get(`/demands/${slug}/letters/new?country=IT`)).text);
      expect(form).not.toContain('By email:');
      expect(form).toContain('<option value="IT" data-channel="post" selected>Italy</option>');
      expect(form).toMatch(/id="field-country-channel"[^>]*>This delegation receives letters on paper/);
    });

    it('says it in French too', async () => {
      const form = unescapeHtml((await t.agent().get(`/demands/${slug}/letters/new?lang=fr&country=DE`)).text);
      expect(form).toContain('Par e-mail : Italie.');
      expect(form).toMatch(
        /Imprimée et remise avec le prochain dossier de signatures au siège de l'OTAN : [^<]*Allemagne/,
      );
      expect(form).toMatch(/id="field-country-channel"[^>]*>Cette délégation reçoit les lettres sur papier/);
    });
  });

  describe('writing to Germany', () => {
    it('defaults to the pack, and keeps the choice to send it oneself through every re-render', async () => {
      const agent = t.agent();
      const page = await preview(agent);
      expect(unescapeHtml(page.text)).toContain(`How should your letter reach ${germany}?`);
      expect(unescapeHtml(page.text)).toContain(
        `Its address is ${germany}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium.`,
      );
      expect(checked(page.text, 'post')).toBe(true);
      expect(checked(page.text, 'self')).toBe(false);

      // "Change my details" with "I will send it myself" chosen: the form keeps it, and so does the preview after it.
      const form = { ...aWriter, ...hiddenOn(page.text), delivery: 'self' };
      const again = await agent.post(`/demands/${slug}/letters/new`).type('form').send(form).expect(200);
      expect(again.text).toContain('<input type="hidden" name="delivery" value="self">');
      const previewed = await agent
        .post(`/demands/${slug}/letters/preview`)
        .type('form')
        .send({ ...aWriter, ...hiddenOn(again.text) })
        .expect(200);
      expect(checked(previewed.text, 'self')).toBe(true);
      expect(checked(previewed.text, 'post')).toBe(false);
      // A text left blank re-renders the preview with the choice as it was.
      const blank = await agent
        .post(`/demands/${slug}/letters`)
        .type('form')
        .send({ ...aWriter, ...hiddenOn(previewed.text), delivery: 'self', body: '' })
        .expect(400);
      expect(checked(blank.text, 'self')).toBe(true);
      expect(await letterRows()).toEqual([]);
    });

    it('confirms a pack letter: ready, nothing queued for the delegation, and the writer told what comes next', async () => {
      const agent = t.agent();
      const res = await write(agent, { ...aWriter, copy: 'on' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/\/check-email\?to=\d+$/);
      const answer = unescapeHtml((await agent.get(res.headers.location!).expect(200)).text);
      expect(answer).toContain(
        `your letter then joins the next pack of signatures handed in to ${germany} at NATO Headquarters`,
      );

      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.subject).toBe('Confirm your letter: Fund defence through fair taxes, not austerity');
      expect(mail!.text).toContain(
        'your letter is printed and handed in with the next pack of signatures at NATO Headquarters',
      );
      expect(mail!.html).toContain('printed and handed in with the next pack');
      const confirmPage = await confirm(agent, linkIn(mail, true));
      expect(unescapeHtml(confirmPage.text)).toContain(
        `Press the button to confirm this letter to ${germany}. It is then printed`,
      );

      expect(await letterRows()).toMatchObject([{ state: 'ready', delivery: 'post', sentAt: null }]);
      await settle();
      // Only the confirmation: no letter, and no copy, until the pack is handed in.
      expect(await outboxKinds()).toEqual(['letter_confirmation']);
      expect(t.smtp!.mails).toHaveLength(1);
      const status = unescapeHtml((await agent.get(linkIn(mail, false)).expect(200)).text);
      expect(status).toContain('data-state="ready"');
      expect(status).toContain('Waiting for the next pack');
      expect(status).toContain(
        `It will be printed and handed in with the next pack of signatures to ${germany} at NATO Headquarters, and we will email you once it has been.`,
      );
    });

    it('holds a pack letter whose words are nearly many others’, and releasing it leaves it for the pack', async () => {
      const crowd = await createTestApp({ env: { LETTER_HOLD_THRESHOLD: '1' } });
      try {
        const words = 'Stop the cuts now! Tax the rich, not the sick and the poor; hospitals before bombs.';
        for (const email of ['one@example.org', 'two@example.org']) {
          const agent = crowd.agent();
          await agent.get(`/demands/${slug}/letters/new`);
          const page = await agent
            .post(`/demands/${slug}/letters/preview`)
            .set(sameOrigin)
            .type('form')
            .send({ ...aWriter, email, ownWords: words });
          await agent
            .post(`/demands/${slug}/letters`)
            .set(sameOrigin)
            .type('form')
            .send({ ...aWriter, ...hiddenOn(page.text), email, ownWords: words, body: letterTextOn(page.text) })
            .expect(303);
          const mails = await crowd.smtp!.waitFor(crowd.smtp!.mails.length + 1);
          await confirm(agent, linkIn(mails.at(-1), true));
        }
        const states = async () =>
          crowd.services.store.all(sql<{ state: string; hold: string | null }>`SELECT state, hold_reason AS hold
            FROM letters ORDER BY id`);
        expect(await states()).toEqual([
          { state: 'ready', hold: null },
          { state: 'held', hold: 'similar' },
        ]);
        await createAccount(crowd.services, 'organiser@example.org', 'organiser');
        const organiser = crowd.agent();
        await login(organiser, 'organiser@example.org');
        const token = await consoleToken(organiser, '/admin/letters/held');
        await organiser.post('/admin/letters/2/release').type('form').send({ _csrf: token }).expect(303);
        expect((await states())[1]).toMatchObject({ state: 'ready' });
        const kinds = await crowd.services.store.all(sql<{ kind: string }>`SELECT kind FROM outbox`);
        expect(kinds.map((k) => k.kind)).toEqual(['letter_confirmation', 'letter_confirmation']);
      } finally {
        await crowd.close();
      }
    });

    it('sends it oneself when chosen: the mailto hint stays, and the print view carries both addresses', async () => {
      const agent = t.agent();
      const res = await write(agent, aWriter, 'self');
      expect(res.headers.location).toMatch(/\/check-email\?to=\d+&by=self$/);
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.subject).toBe(`Your letter to ${germany}: tell us when it is sent`);
      expect(await letterRows()).toMatchObject([{ state: 'pending', delivery: 'self' }]);
      const status = linkIn(mail, false);
      const own = unescapeHtml((await agent.get(status).expect(200)).text);
      expect(own).toContain('id="mailto-link" href="mailto:?subject=');
      expect(own).toContain('Some email programs cut a long letter short');
      expect(own).toContain(
        `Its postal address: ${germany}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium`,
      );

      const print = unescapeHtml((await agent.get(`${status}/print`).expect(200)).text);
      const to = /<div class="address-block address-block--to">([\s\S]*?)<\/div>/.exec(print)![1]!;
      expect(to).toContain(`${germany}<br>NATO Headquarters<br>Boulevard Léopold III<br>1110 Brussels<br>Belgium`);
      const from = /<div class="address-block address-block--from">([\s\S]*?)<\/div>\s*<div class="address-block/.exec(
        print,
      )![1]!;
      expect(from).toContain('Γιώργος Παπαδόπουλος<br>Θεσσαλονίκη');
      expect(from).toContain('<div class="address-blank"><span class="address-blank-label">Your address</span></div>');
      expect(from).not.toContain('giorgos@example.org');
      expect(print.indexOf('address-block--to')).toBeLessThan(print.indexOf('class="letter-subject"'));
    });

    it('prints a letter by email with no address blocks', async () => {
      const agent = t.agent();
      await write(agent, { ...aWriter, country: 'IT' });
      const [mail] = await t.smtp!.waitFor(1);
      const print = await agent.get(`${linkIn(mail, false)}/print`).expect(200);
      expect(print.text).not.toContain('address-block');
    });
  });

  describe('handed in with a pack (markHandedIn, for the pack recorder)', () => {
    async function confirmedPackLetters(n: number) {
      for (let i = 0; i < n; i++) {
        const agent = t.agent();
        const email = `writer${i}@example.org`;
        await write(agent, { ...aWriter, email, ownWords: `${aWriter.ownWords} Letter number ${i}.` });
        const mails = await t.smtp!.waitFor(t.smtp!.mails.length + 1);
        await confirm(
          agent,
          linkIn(
            mails.find((m) => m.to && 'text' in m.to && m.to.text === email),
            true,
          ),
        );
      }
      return (await letterRows()).map((l) => Number(l.id));
    }

    it('moves the pack’s letters to sent, counts them once as handed in, and mails each writer once', async () => {
      const ids = await confirmedPackLetters(3);
      // The third waits for a later pack.
      const batch = await packOf(ids.slice(0, 2));
      const handedInAt = Date.UTC(2026, 2, 9, 15);
      now += 60_000;
      expect(await handIn(batch, handedInAt)).toBe(2);
      expect((await letterRows()).map((l) => [l.state, l.sentAt])).toEqual([
        ['sent', handedInAt],
        ['sent', handedInAt],
        ['ready', null],
      ]);
      expect(await rows('SELECT sent, posted, self_sent AS "selfSent" FROM letter_country_counts')).toEqual([
        { sent: 2, posted: 2, selfSent: 0 },
      ]);
      await settle();
      const told = t.smtp!.mails.filter((m) => m.subject === `Your letter to ${germany} has been handed in`);
      expect(told.map((m) => (m.to && 'text' in m.to ? m.to.text : '')).sort()).toEqual([
        'writer0@example.org',
        'writer1@example.org',
      ]);
      expect(told[0]!.text).toContain('was handed in with a pack of signatures at NATO Headquarters on 9 March 2026.');

      // Recording the same pack again moves, counts and mails nothing.
      expect(await handIn(batch)).toBe(0);
      expect(await rows('SELECT sent, posted FROM letter_country_counts')).toEqual([{ sent: 2, posted: 2 }]);
      const totals = await demandTotals();
      expect([totals.email, totals.pack, totals.self]).toEqual(['0', '2', '0']);
      expect(totals.row('Germany')).toEqual([0, 2, 0]);

      const statusLink = linkIn(told[0], false);
      const status = unescapeHtml((await t.agent().get(statusLink).expect(200)).text);
      expect(status).toContain('data-state="sent"');
      expect(status).toContain('Handed in with a pack of signatures at NATO Headquarters on 9 March 2026.');
    });

    it('counts email, pack and self-sent letters apart on the demand page', async () => {
      const ids = await confirmedPackLetters(1);
      await handIn(await packOf(ids));
      const italian = t.agent();
      await write(italian, { ...aWriter, country: 'IT', email: 'it@example.org' });
      const itMail = await mailTo('it@example.org');
      await confirm(italian, linkIn(itMail, true));
      const selfAgent = t.agent();
      await write(selfAgent, { ...aWriter, country: 'FR', email: 'fr@example.org' }, 'self');
      const frMail = await mailTo('fr@example.org');
      await selfAgent.get(linkIn(frMail, false)).expect(200);
      await selfAgent
        .post(`${linkIn(frMail, false)}/self-sent`)
        .set(sameOrigin)
        .type('form')
        .send({})
        .expect(303);
      await settle();
      const totals = await demandTotals();
      expect([totals.email, totals.pack, totals.self]).toEqual(['1', '1', '1']);
      expect(totals.row('Germany')).toEqual([0, 1, 0]);
      expect(totals.row('Italy')).toEqual([1, 0, 0]);
      expect(totals.row('France')).toEqual([0, 0, 1]);

      const fr = unescapeHtml((await t.agent().get(`/demands/${slug}?lang=fr`).expect(200)).text);
      expect(fr).toContain('Remises par e-mail : 1');
      expect(fr).toContain('Remises avec un dossier de signatures : 1');
      expect(fr).toContain('Envoyées par les personnes elles-mêmes : 1');
    });

    it('undoes a hand-in: the letters wait for the next pack again and are counted out', async () => {
      const ids = await confirmedPackLetters(2);
      const batch = await packOf(ids);
      await handIn(batch);
      expect(await undo(batch)).toBe(2);
      expect((await letterRows()).map((l) => [l.state, l.sentAt])).toEqual([
        ['ready', null],
        ['ready', null],
      ]);
      expect(await rows('SELECT sent, posted FROM letter_country_counts')).toEqual([{ sent: 0, posted: 0 }]);
      expect(await undo(batch)).toBe(0);
      expect(await rows('SELECT sent, posted FROM letter_country_counts')).toEqual([{ sent: 0, posted: 0 }]);
      // An email letter that was sent is never moved back by it.
      await t.services.store.run(sql`UPDATE letters SET delivery = 'email', state = 'sent' WHERE id = ${ids[0]}`);
      expect(await undo(batch)).toBe(0);
    });

    it('tells a French writer in French', async () => {
      const agent = t.agent();
      await write(agent, { ...aWriter, copy: 'on' }, undefined, 'fr');
      const [mail] = await t.smtp!.waitFor(1);
      expect(mail!.subject).toMatch(/^Confirmez votre lettre/);
      expect(mail!.text).toContain('imprimée et remise avec le prochain dossier de signatures');
      const page = await confirm(agent, `${linkIn(mail, true)}?lang=fr`);
      expect(unescapeHtml(page.text)).toContain('Confirmer ma lettre');
      const status = unescapeHtml((await agent.get(`${linkIn(mail, false)}?lang=fr`).expect(200)).text);
      expect(status).toContain('En attente du prochain dossier');
      await handIn(await packOf((await letterRows()).map((l) => Number(l.id))), Date.UTC(2026, 2, 9));
      await settle();
      const told = t.smtp!.mails.at(-1)!;
      expect(told.subject).toBe(`Votre lettre à ${germany} a été remise`);
      expect(told.text).toContain("au siège de l'OTAN le 9 mars 2026");
      // Asked for a copy: it comes with this mail (none went at confirmation: nothing was sent then).
      expect(told.text).toContain(aWriter.ownWords);
      expect(await outboxKinds()).toEqual(['letter_confirmation', 'letter_handed_in']);
    });
  });
});
