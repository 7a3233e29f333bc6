import type { Page } from 'playwright-core';
import { browserSession } from '../helpers/browser';
import { day, sentLetter } from '../helpers/replies';
import { startServer, type RunningServer } from '../helpers/server';

describe('"Did you get a reply?" and the responsiveness table in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;
  const tokens: string[] = [];
  beforeEach(() => ({ page } = browser));
  beforeAll(async () => {
    server = await startServer({ DELIVERY_IN_SERVER: 'false' });
    const sentAt = Date.now() - 15 * day;
    for (let i = 0; i < 12; i++) {
      const id = await sentLetter(server.services.store, {
        demand: 'progressive-taxation',
        country: 'IT',
        email: `writer${i}@example.org`,
        sentAt,
      });
      tokens.push(server.services.letters.replyToken({ id, createdAt: sentAt - 60_000 }));
    }
    // Eleven writers answered already; the twelfth answers below, with the page's buttons.
    for (const [i, token] of tokens.slice(1).entries()) {
      await server.services.letters.answerReply(token, i % 3 === 0 ? 'no' : 'yes');
    }
  });
  afterAll(() => server.close());

  it('answers by a button, shows the answer, and the table and its method are axe clean in both languages', async () => {
    await page.goto(`${server.url}/letters/${tokens[0]}/reply`);
    await check('replies-01-question');
    await page.getByRole('button', { name: 'Only an acknowledgement' }).click();
    await page.waitForURL(/\?saved=1$/);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('your answer is recorded');
    await expect(
      page.getByRole('button', { name: /Only an acknowledgement \(your answer so far\)/ }).count(),
    ).resolves.toBe(1);
    await check('replies-02-answered');
    await page.goto(`${server.url}/letters/${tokens[0]}/reply?lang=fr`);
    await check('replies-03-question-fr');

    await page.goto(`${server.url}/responsiveness?lang=en`);
    await expect(page.locator('table.responsiveness tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('table.responsiveness tbody td').last().textContent()).resolves.toMatch(
      /^\d+% \(\d+% to \d+%\)$/,
    );
    await check('replies-04-table');
    await page.goto(`${server.url}/responsiveness?lang=fr`);
    await check('replies-05-table-fr');
    await page.getByRole('link', { name: 'Comment ces chiffres sont établis' }).first().click();
    await check('replies-06-methodology-fr');
    await page.goto(`${server.url}/demands/progressive-taxation/letters/new?lang=en`);
    await page.getByLabel("Don't ask me afterwards whether I got a reply").check();
    await check('replies-07-letter-form');

    expect(visited).toHaveLength(7);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
