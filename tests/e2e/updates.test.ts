import type { Page } from 'playwright-core';
import { createAccount, password } from '../helpers/admin';
import { browserSession } from '../helpers/browser';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const slug = 'fund-defence-fairly';

describe('a campaign update, written and sent in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    server = await startServer({ SMTP_URL: smtp.url });
    await createAccount(server.services, 'ada@example.org', 'organiser');
    await addValidatedSignaturesTo(server.services.store, slug, [
      { name: 'Grace Hopper', country: 'GB', email: 'grace@example.org', updates: true },
      { name: 'Marie Curie', country: 'FR', email: 'marie@example.org', updates: true, locale: 'fr' },
      { name: 'Not Asked', country: 'DE', email: 'not.asked@example.org', updates: false },
    ]);
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });
  beforeEach(() => ({ page } = browser));

  const to = (address: string) =>
    smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text.toLowerCase() === address);

  it('composes in English and French, previews, tests on the organiser, sends once, and each signer can unsubscribe', async () => {
    await page.goto(`${server.url}/admin/login`);
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server.url}/admin`);

    await page.getByRole('link', { name: 'Updates' }).click();
    await check('updates-01-index');
    await page.getByRole('link', { name: 'Write an update' }).first().click();
    await page.waitForURL(new RegExp(`/admin/updates/${slug}/new`));

    // A first try without a subject: the form comes back with the message and what was typed.
    await page
      .getByLabel('Message')
      .first()
      .fill('We handed in **12,000** signatures. [Read more](https://example.org/news)');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.error-summary').textContent()).resolves.toContain('Enter a subject');
    await expect(page.title()).resolves.toMatch(/^Error: /);
    await check('updates-02-errors');

    await page.getByLabel('Subject').first().fill('We handed it in');
    await page.getByLabel('Subject').nth(1).fill('Nous l’avons remise');
    await page.getByLabel('Message').nth(1).fill('Nous avons remis **12 000** signatures.');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.update-preview').textContent()).resolves.toContain('It goes to 2 signers.');
    await expect(page.locator('.mail-preview strong').first().textContent()).resolves.toBe('12,000');
    await check('updates-03-preview');

    await page.getByRole('button', { name: 'Send a test to me' }).click();
    await expect(page.locator('.notice').textContent()).resolves.toContain('A test was sent to ada@example.org');
    await smtp.waitFor(2);
    expect(to('ada@example.org')).toHaveLength(2);
    expect(to('grace@example.org')).toHaveLength(0);

    // Sending, and the same form sent again (a retried POST, a second click): one update, one mail each.
    const sent = await page.locator('form.console-form').evaluate((form: HTMLFormElement) => {
      const fields: Record<string, string> = {};
      new FormData(form).forEach((value, name) => (fields[name] = String(value)));
      return fields;
    });
    await page.getByRole('button', { name: 'Send to 2 signers' }).click();
    await page.waitForURL(new RegExp(`/admin/updates/${slug}/\\d+$`));
    const again = await page.request.post(`${server.url}/admin/updates/${slug}/send`, {
      form: sent,
      headers: { Origin: server.url },
      maxRedirects: 0,
    });
    expect(again.status()).toBe(303);
    expect(new URL(again.headers().location!, server.url).href).toBe(page.url());
    await smtp.waitFor(4);
    // The relay has the mails; the outbox records each as sent a moment later: the page follows.
    for (let tries = 0; tries < 50; tries++) {
      await page.reload();
      if ((await page.locator('#progress-sent').textContent()) === '2') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(page.locator('#progress-sent').textContent()).resolves.toBe('2');
    await check('updates-04-sent');
    expect(to('grace@example.org').map((m) => m.subject)).toEqual(['We handed it in']);
    expect(to('marie@example.org').map((m) => m.subject)).toEqual(['Nous l’avons remise']);
    expect(to('not.asked@example.org')).toHaveLength(0);

    // The link in the mail: a page that asks, then one press unsubscribes.
    const link = /(http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/\S+)/.exec(to('grace@example.org')[0]!.text ?? '')![1]!;
    await page.goto(link);
    await check('updates-05-unsubscribe');
    await page
      .getByRole('button')
      .filter({ hasText: /unsubscribe/i })
      .first()
      .click();
    await expect(page.locator('main').textContent()).resolves.toContain('You are unsubscribed');

    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
