import type { Page } from 'playwright-core';
import { createAccount, password } from '../helpers/admin';
import { browserSession } from '../helpers/browser';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { startServer, type RunningServer } from '../helpers/server';
import { until } from '../helpers/until';

const byDate = 'fund-defence-fairly';
const byHand = 'protect-civil-society';

describe('a closed petition in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer();
    await createAccount(server.services, 'ada@example.org', 'organiser');
    await addValidatedSignaturesTo(
      server.services.store,
      byDate,
      Array.from({ length: 3 }, (_, i) => ({ name: `Signer ${i}`, country: 'FR' })),
    );
  });
  afterAll(() => server.close());
  beforeEach(() => ({ page } = browser));

  it('closes itself at its closing time: the notice at the top, no sign form, the count kept; listed as closed', async () => {
    const closesAt = Date.now() + 1500;
    await server.services.petitions.setClosesAt(byDate, closesAt);
    await page.goto(`${server.url}/petitions/${byDate}`);
    await expect(page.locator('.closing-date').textContent()).resolves.toMatch(/^Closes /);
    await expect(page.locator('form.sign-form, #sign-heading').count()).resolves.toBeGreaterThan(0);

    await until(() => Date.now() > closesAt + 50, 'the closing time');
    await page.reload();
    const notice = page.locator('main .notice--closed');
    await expect(notice.textContent()).resolves.toMatch(/^This petition closed on \d+ \w+ \d{4} with 3 signatures\./);
    // The notice comes right after the title, before the text.
    await expect(
      page.evaluate(() => document.querySelector('h1')?.nextElementSibling?.classList.contains('notice--closed')),
    ).resolves.toBe(true);
    await expect(page.locator('#sign-heading').count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Sign this petition' }).count()).resolves.toBe(0);
    await expect(page.locator('main').textContent()).resolves.not.toContain('Be the first');
    await expect(page.locator('.petition-side .count').textContent()).resolves.toContain('3 signatures');
    await check('closed-01-petition');

    await page.goto(`${server.url}/petitions/${byDate}?lang=fr`);
    await expect(page.locator('main .notice--closed').textContent()).resolves.toMatch(
      /^Cette pétition a été close le .* avec 3 signatures\./,
    );
    await check('closed-02-petition-fr');

    await page.goto(`${server.url}/?lang=en`);
    await expect(page.locator(`.demand:has(a[href="/petitions/${byDate}"]) .count`).textContent()).resolves.toBe(
      'Closed — 3 signatures',
    );
    await page.getByRole('link', { name: 'See the closed petitions' }).click();
    await page.waitForURL(/\/petitions\/archive$/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Closed petitions');
    await expect(page.locator('.archive li').first().textContent()).resolves.toContain('with 3 signatures');
    await check('closed-03-archive');
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });

  it('asks the organiser to confirm before closing by hand, without script', async () => {
    await browser.context.route('**/*.js', (route) => route.abort());
    await page.goto(`${server.url}/admin/login`);
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server.url}/admin`);
    await page.goto(`${server.url}/admin/petitions/${byHand}/edit`);
    await page.getByRole('link', { name: 'Close the petition' }).click();
    await page.waitForURL(/\/close$/);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/^Close “.*”\?$/);
    await check('closed-04-confirm');
    await page.getByRole('link', { name: 'No, go back to the petition' }).click();
    await page.waitForURL(/\/edit$/);
    await expect(page.locator('.state-box strong').textContent()).resolves.toBe('Open');

    await page.getByRole('link', { name: 'Close the petition' }).click();
    await page.getByRole('button', { name: 'Yes, close the petition' }).click();
    await page.waitForURL(/notice=petitionClosed/);
    await expect(page.locator('.state-box strong').textContent()).resolves.toBe('Closed');
    await page.goto(`${server.url}/petitions/${byHand}`);
    await expect(page.locator('main .notice--closed').textContent()).resolves.toMatch(/^This petition closed on /);
    await check('closed-05-closed-by-hand');
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
