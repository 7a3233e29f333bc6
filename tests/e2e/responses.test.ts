import type { Page } from 'playwright-core';
import { createAccount, password } from '../helpers/admin';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';

const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';

describe('delegations’ responses in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ DELIVERY_IN_SERVER: 'false' });
    await createAccount(server.services, 'ada@example.org', 'organiser');
  });
  afterAll(() => server.close());
  beforeEach(() => ({ page } = browser));

  it('records a response in the console and shows it on the public pages, axe clean', async () => {
    await page.goto(`${server.url}/admin/login`);
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server.url}/admin`);
    await page.getByRole('link', { name: 'Responses' }).click();
    await check('responses-01-console-empty');
    await page.getByRole('link', { name: 'Record a response' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('.error-summary').textContent()).resolves.toContain(
      'Choose the delegation that answered',
    );
    await check('responses-02-form-errors');

    await page.getByLabel('Delegation').selectOption({ label: `Germany – ${germany}` });
    await page.getByLabel('About').selectOption('petition:fund-defence-fairly');
    await page.getByLabel('Date received').fill('2026-01-15');
    await page.getByLabel('How it came').selectOption('letter');
    await page.getByLabel('The response, or a summary of it').fill('We thank the signers.\n\nWe will raise it.');
    await page.getByLabel('Public link (optional)').fill('https://example.org/answer');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/admin\/responses\?notice=responseSaved$/);
    await expect(page.locator('#responses').textContent()).resolves.toContain(germany);
    await check('responses-03-console-list');
    // "Tell the signers" opens the update composer with a draft in both languages.
    await page
      .locator('#responses')
      .getByRole('link', { name: /Tell the signers/ })
      .click();
    await page.waitForURL(/\/admin\/updates\/fund-defence-fairly\/new\?response=\d+$/);
    await expect(page.locator('#field-subjectEn').inputValue()).resolves.toBe(`${germany} has answered`);
    await expect(page.locator('#field-subjectFr').inputValue()).resolves.toBe(`${germany} a répondu`);
    await expect(page.locator('#field-bodyFr').inputValue()).resolves.toContain(
      'a répondu le 15 janvier 2026 (par lettre) :\n\n> We thank the signers.',
    );
    await check('responses-03b-tell-the-signers');

    await page.goto(`${server.url}/petitions/fund-defence-fairly`);
    await expect(page.locator('.responses').textContent()).resolves.toContain('15 January 2026');
    await check('responses-04-petition');
    await page.locator('.responses').getByRole('link', { name: germany }).click();
    await page.waitForURL(/\/delegations\/de$/);
    await expect(page.locator('h1').textContent()).resolves.toBe(germany);
    await check('responses-05-delegation');
    await page.goto(`${server.url}/delegations/de?lang=fr`);
    await expect(page.locator('.responses').textContent()).resolves.toContain('15 janvier 2026');
    await check('responses-06-delegation-fr');
    await page.goto(`${server.url}/delegations/zz`);
    await check('responses-07-unknown');

    expect(visited).toHaveLength(8);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
