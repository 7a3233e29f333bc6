import { sql } from 'kysely';
import { createAccount, login } from '../helpers/admin';
import { letterDemand, unescapeHtml } from '../helpers/letters';
import { day, sentLetter } from '../helpers/replies';
import { createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';

const petitionOfDemand = 'fund-defence-fairly';
const otherDemand = 'civic-freedoms';

/** The cells of the table row headed by `name`, as text. */
function rowOf(html: string, name: string): string[] | undefined {
  const page = unescapeHtml(html);
  const start = page.indexOf(`<th scope="row">${name}</th>`);
  if (start < 0) return undefined;
  const row = page.slice(start, page.indexOf('</tr>', start));
  return [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
}

describe('the responsiveness table', () => {
  let t: TestApp;
  let now: number;
  const start = Date.UTC(2026, 2, 10, 9, 0, 0);
  let italy: string;
  let germany: string;
  beforeAll(async () => {
    now = start;
    t = await createTestApp({ clock: () => now, smtp: false });
    const nameOf = async (country: string) =>
      (await t.services.store.first(
        sql<{ name: string }>`SELECT name FROM targets WHERE country_code = ${country} AND is_default = 1`,
      ))!.name;
    italy = await nameOf('IT');
    germany = await nameOf('DE');

    // Italy: 14 letters. Answers in time: 5 yes, 1 yes-but, 2 acknowledgements, 3 no, 1 "did not expect
    // one"; one more "yes" only after the 4 weeks; one letter not answered; one self-sent letter
    // about another demand answered "no".
    // Germany: 3 letters, all answered "yes" (too few answers).
    const plan: Array<[string, string, string | undefined, number]> = [
      ...Array.from({ length: 5 }, (): [string, string, string, number] => ['IT', letterDemand, 'yes', 15]),
      ['IT', letterDemand, 'yes_unaddressed', 16],
      ['IT', letterDemand, 'acknowledgement', 16],
      ['IT', letterDemand, 'acknowledgement', 17],
      ['IT', letterDemand, 'no', 18],
      ['IT', letterDemand, 'no', 18],
      ['IT', otherDemand, 'no', 19],
      ['IT', letterDemand, 'not_expected', 20],
      ['IT', letterDemand, 'yes', 29],
      ['IT', letterDemand, undefined, 0],
      ['DE', letterDemand, 'yes', 15],
      ['DE', letterDemand, 'yes', 15],
      ['DE', letterDemand, 'yes', 15],
    ];
    const answers: Array<{ path: string; answer: string; day: number }> = [];
    for (const [i, [country, demand, answer, when]] of plan.entries()) {
      const id = await sentLetter(t.services.store, {
        demand,
        country,
        email: `writer${i}@example.org`,
        sentAt: start,
        state: demand === otherDemand ? 'self_sent' : 'sent',
      });
      const token = t.services.letters.replyToken({ id, createdAt: start - 60_000 });
      if (answer) answers.push({ path: `/letters/${token}/reply`, answer, day: when });
    }
    // Answered by the page's buttons, in the order of the days they were given.
    for (const a of answers.sort((x, y) => x.day - y.day)) {
      now = start + a.day * day;
      await t.agent().post(a.path).set(sameOrigin).type('form').send({ answer: a.answer }).expect(303);
    }
    now = start + 30 * day;
  });
  afterAll(() => t.close());

  it('shows per delegation the letters, the counted answers, the replies and the share with its 95% interval', async () => {
    const res = await t.agent().get('/responsiveness').expect(200);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toContain('<th scope="col">Share replied (95% interval)</th>');
    // 13 letters: 11 counted answers (the late one and "did not expect one" left out); 6 replies
    // ("yes but" counts, acknowledgements do not): 55%, Wilson 28% to 79%.
    expect(rowOf(res.text, italy)).toEqual([italy, 'Italy', '14', '11', '6', '55% (28% to 79%)']);
    expect(rowOf(res.text, germany)).toEqual([germany, 'Germany', '3', '3', '3', 'Too few answers']);
    expect(res.text).toContain('Answers “I did not expect one” are left out of the answers and of the share.');
    expect(res.text).toContain('href="/responsiveness/methodology"');
  });

  it('shows one demand when asked, and 404 for a demand that does not exist', async () => {
    const res = await t.agent().get(`/responsiveness?demand=${letterDemand}`).expect(200);
    expect(rowOf(res.text, italy)).toEqual([italy, 'Italy', '13', '10', '6', '60% (31% to 83%)']);
    await t.agent().get('/responsiveness?demand=nothing-here').expect(404);
    const demandPage = await t.agent().get(`/demands/${letterDemand}`).expect(200);
    expect(demandPage.text).toContain(`href="/responsiveness?demand=${letterDemand}"`);
    expect(demandPage.text).toContain('href="/responsiveness">');
  });

  it('moves when a writer answers, once the cached table is refreshed', async () => {
    const id = await sentLetter(t.services.store, {
      demand: otherDemand,
      country: 'DE',
      email: 'late-writer@example.org',
      sentAt: now - 15 * day,
    });
    const path = `/letters/${t.services.letters.replyToken({ id, createdAt: now - 15 * day - 60_000 })}/reply`;
    await t.agent().post(path).set(sameOrigin).type('form').send({ answer: 'acknowledgement' }).expect(303);
    now += 10 * 60_000;
    const res = await t.agent().get('/responsiveness').expect(200);
    expect(rowOf(res.text, germany)).toEqual([germany, 'Germany', '4', '4', '3', 'Too few answers']);
  });

  it('explains the method exactly, in English and in French', async () => {
    const en = unescapeHtml((await t.agent().get('/responsiveness/methodology').expect(200)).text);
    expect(en).toContain('Fourteen days after a letter went out');
    expect(en).toContain('If they have not answered by day 21, we remind them once.');
    expect(en).toContain('the last answer given within 4 weeks (28 days) of the letter going out is the one counted');
    expect(en).toContain('“Only an acknowledgement” and “No” count as no reply.');
    expect(en).toContain('leaving out “I did not expect one”');
    expect(en).toContain('z = 1.959964');
    expect(en).toContain('Below 10 answers a delegation shows “Too few answers”');

    const fr = await t.agent().get('/responsiveness/methodology?lang=fr').expect(200);
    expect(unescapeHtml(fr.text)).toContain('Comment le tableau des réponses est établi');
    const table = await t.agent().get('/responsiveness?lang=fr').expect(200);
    const row = rowOf(table.text, italy)!;
    expect(row.slice(1, 5)).toEqual(['Italie', '14', '11', '6']);
    expect(row[5]).toMatch(/^55\s?%\s?\(de 28\s?% à 79\s?%\)$/u);
    expect(rowOf(table.text, germany)![5]).toBe('Trop peu de réponses');
  });

  it("shows organisers (viewers too) the table of their petition's demand on its dashboard", async () => {
    await createAccount(t.services, 'viewer@example.org', 'viewer');
    const agent = t.agent();
    await login(agent, 'viewer@example.org');
    const res = await agent.get(`/admin?petition=${petitionOfDemand}`).expect(200);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.text).toContain('Replies to letters about');
    expect(rowOf(res.text, italy)).toEqual([italy, 'Italy', '13', '10', '6', '60% (31% to 83%)']);
  });
});
