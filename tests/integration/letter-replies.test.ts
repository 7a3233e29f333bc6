import { sql } from 'kysely';
import type { ParsedMail } from 'mailparser';
import { lettersPrivacyRepository } from '../../server/letters/lettersPrivacyRepository';
import { repliesRepository } from '../../server/letters/replies/repliesRepository';
import { aLetter, letterDemand, unescapeHtml, writeLetter } from '../helpers/letters';
import { day, sentLetter } from '../helpers/replies';
import { appEnv, runCli } from '../helpers/cli';
import { postgresUrl } from '../helpers/testStore';
import { until } from '../helpers/until';
import { createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';

describe('Did your letter get a reply? (the questionnaire)', () => {
  let t: TestApp;
  let now: number;
  const start = Date.UTC(2026, 2, 10, 9, 0, 0);
  beforeEach(async () => {
    now = start;
    t = await createTestApp({ clock: () => now });
  });
  afterEach(() => t.close());

  const settle = async () => {
    await t.services.sender.idle();
    await t.services.sender.drain();
  };
  const outboxKinds = async () =>
    (
      await t.services.store.all(
        sql<{ kind: string; recipient: string }>`SELECT kind, recipient FROM outbox
         WHERE kind LIKE 'letter_reply%' ORDER BY id`,
      )
    ).map((r) => `${r.kind} ${r.recipient}`);
  const replyRow = (id: number) =>
    t.services.store.first(
      t.services.store.qb
        .selectFrom('letter_replies')
        .select(['answer', 'counted_answer as counted', 'reminded_at as remindedAt'])
        .where('letter_id', '=', id),
    );
  const mailsTo = (address: string) => t.smtp!.mails.filter((m) => m.to && 'text' in m.to && m.to.text === address);
  const replyPath = (mail: ParsedMail | undefined) => {
    const match = /http:\/\/localhost:3000(\/letters\/\d+\.[\w-]{27}\/reply)(?=\s)/.exec(mail?.text ?? '');
    if (!match) throw new Error(`no reply link in: ${mail?.text}`);
    return match[1]!;
  };
  const ask = () => t.services.letters.askReplies();
  const at = (days: number, extraMs = 0) => (now = start + days * day + extraMs);
  const letterFor = (email: string, over: Partial<Parameters<typeof sentLetter>[1]> = {}) =>
    sentLetter(t.services.store, { demand: letterDemand, country: 'IT', email, sentAt: start, ...over });

  it('asks 14 days after a letter was delivered by email, reminds once at 21 days, then never again', async () => {
    await writeLetter(t, aLetter);
    await settle();
    const letter = await t.services.store.first(
      t.services.store.qb.selectFrom('letters').select(['id', 'state', 'sent_at as sentAt']),
    );
    expect(letter).toEqual({ id: expect.any(Number), state: 'sent', sentAt: start });

    at(14, -60_000);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
    expect(await outboxKinds()).toEqual([]);

    at(14);
    expect(await ask()).toEqual({ asked: 1, reminded: 0 });
    expect(await ask()).toEqual({ asked: 0, reminded: 0 }); // the next sweep finds it asked
    await settle();
    const [question] = mailsTo(aLetter.email!).filter((m) => m.subject?.includes('reply'));
    expect(question!.subject).toMatch(/^Did .+ reply to your letter\?$/);
    expect(question!.text).toContain('went out on 10 March 2026');
    expect(question!.text).toContain('Answers given by 7 April 2026 count');
    expect(replyPath(question)).toMatch(/^\/letters\/\d+\./);

    at(21, -60_000);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
    at(21);
    expect(await ask()).toEqual({ asked: 0, reminded: 1 });
    at(27);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
    await settle();
    const reminder = mailsTo(aLetter.email!).find((m) => m.subject?.startsWith('Reminder'));
    expect(reminder!.text).toContain('This is the only reminder');
    expect(replyPath(reminder)).toBe(replyPath(question));
    expect(await outboxKinds()).toEqual([
      `letter_reply_question ${aLetter.email}`,
      `letter_reply_reminder ${aLetter.email}`,
    ]);
  });

  it('asks about self-sent letters from the day they were marked sent, and never about letters out for 4 weeks', async () => {
    const self = await letterFor('self@example.org', { state: 'self_sent', sentAt: start + 3 * day });
    await letterFor('old@example.org', { sentAt: start - 20 * day });
    at(14);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 }); // the old one is past its 4 weeks at day 8
    at(17);
    expect(await ask()).toEqual({ asked: 1, reminded: 0 });
    await settle();
    expect(mailsTo('self@example.org')[0]!.text).toContain('You sent your letter');
    expect(await replyRow(self)).toEqual({ answer: null, counted: null, remindedAt: null });
  });

  it('records nothing on a GET: the page asks, and only its buttons (POST) answer', async () => {
    const id = await letterFor('ada@example.org');
    at(14);
    await ask();
    await settle();
    const path = replyPath(mailsTo('ada@example.org')[0]);

    const page = await t.agent().get(path).expect(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('<h1>Did you get a reply?</h1>');
    const buttons = [...page.text.matchAll(/<button type="submit" name="answer" value="(\w+)"[^>]*>([^<]+)/g)];
    expect(buttons.map((b) => [b[1], unescapeHtml(b[2]!).trim()])).toEqual([
      ['yes', 'Yes'],
      ['yes_unaddressed', 'Yes, but it did not address my points'],
      ['acknowledgement', 'Only an acknowledgement'],
      ['no', 'No'],
      ['not_expected', 'I did not expect one'],
    ]);
    await t.agent().get(`${path}?answer=yes`).expect(200);
    await t.agent().head(path).expect(200);
    expect((await replyRow(id))!.answer).toBeNull();

    // A form posted from another site is refused by the Origin check, and records nothing.
    await t.agent().post(path).set({ Origin: 'https://evil.example' }).type('form').send({ answer: 'yes' }).expect(403);
    // Nothing chosen (or an answer that is none of the five): asked again, nothing recorded.
    const blank = await t.agent().post(path).set(sameOrigin).type('form').send({ answer: 'maybe' }).expect(400);
    expect(blank.text).toContain('Choose one of the answers');
    expect(blank.text).toMatch(/<title>Error: Did you get a reply\?/);
    expect((await replyRow(id))!.answer).toBeNull();

    at(15);
    const answered = await t.agent().post(path).set(sameOrigin).type('form').send({ answer: 'no' }).expect(303);
    expect(answered.headers.location).toBe(`${path}?saved=1`);
    expect(await replyRow(id)).toMatchObject({ answer: 'no', counted: 'no' });
    const after = await t.agent().get(answered.headers.location!).expect(200);
    expect(after.text).toContain('Thank you: your answer is recorded.');
    expect(after.text).toContain('Your answer so far: No (given on 25 March 2026)');
    expect(after.text).toMatch(/value="no" class="button">No <span class="reply-current">\(your answer so far\)/);

    // Answered: no reminder.
    at(21);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
  });

  it('keeps one answer per letter, changeable; a change after 4 weeks is kept but the one given in time counts', async () => {
    const id = await letterFor('ada@example.org');
    at(14);
    await ask();
    await settle();
    const path = replyPath(mailsTo('ada@example.org')[0]);
    const answer = (value: string) => t.agent().post(path).set(sameOrigin).type('form').send({ answer: value });

    at(16);
    await answer('acknowledgement').expect(303);
    at(20);
    await answer('yes').expect(303);
    expect(await replyRow(id)).toMatchObject({ answer: 'yes', counted: 'yes' });
    const count = await t.services.store.first(sql<{ n: number }>`SELECT count(*) AS n FROM letter_replies`);
    expect(Number(count!.n)).toBe(1);

    at(28, 60_000); // a minute past the 4 weeks
    const late = await answer('no').expect(303);
    expect(late.headers.location).toBe(`${path}?saved=late`);
    expect(await replyRow(id)).toMatchObject({ answer: 'no', counted: 'yes' });
    const page = await t.agent().get(late.headers.location!).expect(200);
    expect(page.text).toContain('It came more than 4 weeks after your letter, so it does not count in the statistics.');
    expect(page.text).toContain('The answer that counts in the statistics is the one you gave in time: Yes.');
    expect(page.text).toContain('it no longer counts in the statistics');
  });

  it('never asks a writer who opted out on the letter form, and the form remembers the choice', async () => {
    const optOut = { ...aLetter, noFollowUp: 'on' };
    // A blank field re-renders the form with the box still ticked; the preview carries it on.
    const agent = t.agent();
    const again = await agent
      .post(`/demands/${letterDemand}/letters/preview`)
      .set(sameOrigin)
      .type('form')
      .send({ ...optOut, name: '' })
      .expect(400);
    expect(again.text).toMatch(/<input id="field-noFollowUp" name="noFollowUp" type="checkbox"[^>]* checked>/);
    expect(again.text).toContain('Don&#x27;t ask me afterwards whether I got a reply');
    const preview = await agent
      .post(`/demands/${letterDemand}/letters/preview`)
      .set(sameOrigin)
      .type('form')
      .send(optOut);
    expect(preview.text).toContain('<input type="hidden" name="noFollowUp" value="on">');

    await writeLetter(t, optOut);
    await settle();
    const row = await t.services.store.first(t.services.store.qb.selectFrom('letters').select(['state', 'ask_reply']));
    expect(row).toEqual({ state: 'sent', ask_reply: 0 });
    at(14);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
    at(21);
    expect(await ask()).toEqual({ asked: 0, reminded: 0 });
    expect(await outboxKinds()).toEqual([]);
  });

  it('never asks about an anonymised or erased letter, and its link then names nothing', async () => {
    const kept = await letterFor('kept@example.org');
    const anonymised = await letterFor('gone@example.org');
    await letterFor('erased@example.org');
    at(14);
    // Anonymised and erased just before the sweep (as retention and an erasure request do).
    await t.services.store.transaction(async (tx) => {
      const privacy = lettersPrivacyRepository(tx);
      await tx.run(tx.qb.updateTable('letters').set({ updated_at: 0 }).where('id', '=', anonymised));
      expect(await privacy.anonymiseFinishedBefore(1)).toEqual([anonymised]);
      await privacy.eraseByEmail('erased@example.org', ['erased@example.org']);
    });
    expect(await ask()).toEqual({ asked: 1, reminded: 0 });
    expect((await outboxKinds()).map((k) => k.split(' ')[1])).toEqual(['kept@example.org']);
    expect(await replyRow(kept)).toBeDefined();

    const link = `/letters/${t.services.letters.replyToken({ id: anonymised, createdAt: start - 60_000 })}/reply`;
    await t.agent().get(link).expect(404);
    await t.agent().post(link).set(sameOrigin).type('form').send({ answer: 'yes' }).expect(404);
    expect(await replyRow(anonymised)).toBeUndefined();
  });

  it('queues each question once when two processes sweep at the same moment', async () => {
    // Two `npm run letters -- --ask-replies` at once, beside each other as beside the server: they
    // read the time from the system clock, so the letters went out 15 days before it.
    const real = Date.now() - 15 * day;
    const letters = 300; // more than one chunk each
    for (let i = 0; i < letters; i++) await letterFor(`writer${i}@example.org`, { sentAt: real });
    // On PostgreSQL the race is made certain: the questionnaire's table is locked against writes until
    // both processes have read the same due letters and wait to claim them (SQLite lets one writer
    // in at a time, and the second reads what the first committed, or claims after it).
    let release = () => {};
    const locked = postgresUrl
      ? t.services.store.transaction(async (tx) => {
          await tx.run(sql`LOCK TABLE letter_replies IN EXCLUSIVE MODE`);
          await new Promise<void>((resolve) => (release = resolve));
        })
      : undefined;
    const running = Promise.all([1, 2].map(() => runCli('server/letters/cli.ts', ['--ask-replies'], appEnv(t))));
    if (locked) {
      const waiting = sql<{ n: number }>`SELECT count(*) AS n FROM pg_locks WHERE NOT granted`;
      await until(async () => Number((await t.services.store.first(waiting))!.n) >= 2, 'both runners to wait', 30_000);
      release();
      await locked;
    }
    const runs = await running;
    const asked = runs.map((run) => {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      return Number(/^Asked (\d+) writers/.exec(run.stdout)![1]);
    });
    expect(asked[0]! + asked[1]!).toBe(letters);
    const kinds = await outboxKinds();
    expect(kinds).toHaveLength(letters);
    expect(new Set(kinds).size).toBe(letters);
  });

  it('lets one claim, and only one, ask about a letter or remind its writer', async () => {
    const id = await letterFor('ada@example.org');
    const repo = repliesRepository(t.services.store);
    expect(await repo.claimQuestion(id, now)).toBe(true);
    expect(await repo.claimQuestion(id, now)).toBe(false);
    expect(await repo.claimReminder(id, now)).toBe(true);
    expect(await repo.claimReminder(id, now)).toBe(false);
  });

  it('asks in French, and the page speaks French', async () => {
    await letterFor('marie@example.org', { locale: 'fr' });
    at(14);
    await ask();
    await settle();
    const [mail] = mailsTo('marie@example.org');
    expect(mail!.subject).toMatch(/^Avez-vous reçu une réponse de .+ \?$/);
    expect(mail!.text).toContain('est partie le 10 mars 2026');
    const page = await t
      .agent()
      .get(`${replyPath(mail)}?lang=fr`)
      .expect(200);
    expect(page.text).toContain('<h1>Avez-vous reçu une réponse ?</h1>');
    expect(unescapeHtml(page.text)).toContain('Seulement un accusé de réception');
    expect(unescapeHtml(page.text)).toContain('Les réponses données jusqu’au 7 avril 2026'.replace('’', "'"));
  });
});
