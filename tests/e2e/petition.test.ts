import type { BrowserContext, Page } from 'playwright-core';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

describe('signing a petition in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let context: BrowserContext;
  let page: Page;
  beforeEach(() => ({ context, page } = browser));

  describe('with a real SMTP server', () => {
    let server: RunningServer;
    let smtp: SmtpSink;
    beforeAll(async () => {
      smtp = await startSmtpSink();
      server = await startServer({ SMTP_URL: smtp.url });
    });
    afterAll(async () => {
      await server.close();
      await smtp.close();
    });

    it('goes home → petition → sign → mail → link → Confirm, and the count goes up', async () => {
      await page.goto(server.url);
      await check('01-home');
      await page.getByRole('link', { name: /Read and sign the petition: .*fund defence fairly/i }).click();
      await page.waitForURL(/\/petitions\/fund-defence-fairly$/);
      await check('02-petition');
      await expect(page.locator('.petition-side .count').textContent()).resolves.toContain('0 signatures');

      // A first try with the email missing: the form comes back with a message and the name kept.
      await page.getByLabel('Full name').fill('Grace Hopper');
      await page.getByLabel('Country', { exact: true }).selectOption('US');
      await page.getByRole('button', { name: 'Sign this petition' }).click();
      await expect(page.locator('.error-summary').textContent()).resolves.toContain('Enter your email address');
      await expect(page.getByLabel('Full name').inputValue()).resolves.toBe('Grace Hopper');
      await check('03-sign-error');

      await page.getByLabel('Email address').fill('grace@example.org');
      await page.getByLabel('Show my first name and country publicly on this page').check();
      await page.getByRole('button', { name: 'Sign this petition' }).click();
      await page.waitForURL(/\/check-email$/);
      await expect(page.locator('h1').textContent()).resolves.toBe('Check your email');
      await check('04-check-email');

      const [mail] = await smtp.waitFor(1);
      const link = /(http:\/\/127\.0\.0\.1:\d+\/signatures\/\S+\/confirm)/.exec(mail!.text ?? '')![1]!;
      await page.goto(link);
      await check('05-confirm');
      await page.getByRole('button', { name: 'Confirm my signature' }).click();
      await page.waitForURL(/\/thanks$/);
      await expect(page.locator('.count').textContent()).resolves.toContain('1 signature');
      await check('06-thanks');

      await page.getByRole('link', { name: 'See the petition' }).click();
      await expect(page.locator('.petition-side .count').textContent()).resolves.toContain('1 signature');
      await expect(page.locator('.recent').textContent()).resolves.toContain('Grace, United States');
      await check('07-petition-after');

      // The map beside the table: the image loads, and its SVG parses with a shaded path for the signer.
      const map = page.locator('.world-map img');
      await map.scrollIntoViewIfNeeded();
      await expect(map.evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).resolves.toBe(
        960,
      );
      const parsed = await page.evaluate(
        async (src) => {
          const doc = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml');
          return {
            errors: doc.getElementsByTagName('parsererror').length,
            shaded: Array.from(doc.querySelectorAll('path[data-country]')).map((p) => p.getAttribute('data-country')),
            title: doc.querySelector('svg > title')?.textContent,
          };
        },
        (await map.getAttribute('src'))!,
      );
      expect(parsed).toEqual({ errors: 0, shaded: ['US'], title: 'Signatures by country, on a world map' });

      expect(visited).toHaveLength(7);
      expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
    });

    it('works in French, with the copy-link button enhanced by script', async () => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.goto(`${server.url}/petitions/protect-civil-society?lang=fr`);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
      const copy = page.getByRole('button', { name: 'Copier le lien' });
      await copy.click();
      await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(
        // The copied link says where the signers it brings came from (source codes).
        `${server.url}/petitions/protect-civil-society?source=share-link`,
      );
      await check('08-petition-fr');
      expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
    });
  });

  describe('with mail captured locally, as a newcomer runs it', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(() => server.close());

    it('confirms from the mail shown at /dev/mailbox', async () => {
      await page.goto(`${server.url}/petitions/ban-weapons-that-target-people`);
      await page.getByLabel('Full name').fill('Rosalind Franklin');
      await page.getByLabel('Email address').fill('rosalind@example.org');
      await page.getByLabel('Country', { exact: true }).selectOption('GB');
      await page.getByRole('button', { name: 'Sign this petition' }).click();
      await page.waitForURL(/\/check-email$/);

      await server.services.sender.idle();
      await page.goto(`${server.url}/dev/mailbox`);
      await check('09-mailbox');
      await page.getByRole('link', { name: /Confirm your signature/ }).click();
      await check('10-mail');
      await page.getByRole('link', { name: /\/signatures\/.*\/confirm/ }).click();
      await page.getByRole('button', { name: 'Confirm my signature' }).click();
      await page.waitForURL(/\/thanks$/);
      await expect(page.locator('.count').textContent()).resolves.toContain('1 signature');
      expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
    });
  });
});
