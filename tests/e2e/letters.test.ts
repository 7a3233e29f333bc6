import type { BrowserContext, Page } from 'playwright-core';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const ownWords = 'My sister is a nurse, and her ward lost two beds this year.';

describe('writing to a delegation in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let context: BrowserContext;
  let page: Page;
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
  beforeEach(() => ({ context, page } = browser));

  it('writes, previews, edits, confirms from the mail, and sees the letter sent', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: /Write to your delegation: Fund defence through fair taxes/ }).click();
    await page.waitForURL(/\/demands\/progressive-taxation\/letters\/new$/);
    await check('letters-01-form');

    // A first try without one's own words: the form comes back with a message and the rest kept.
    await page.getByLabel("Which country's delegation do you want to write to?").selectOption('IT');
    await page.getByLabel('Full name').fill('Grace Hopper');
    await page.getByLabel('Email address').fill('grace@example.org');
    await page.getByLabel('Town or postcode (optional)').fill('Arlington');
    await page.getByRole('button', { name: 'Preview my letter' }).click();
    await expect(page.locator('.error-summary').textContent()).resolves.toContain(
      'Write a sentence or two in your own words',
    );
    await expect(page.getByLabel('Full name').inputValue()).resolves.toBe('Grace Hopper');
    await check('letters-02-form-error');

    await page.getByLabel('Why does this matter to you?').fill(ownWords);
    await page.getByLabel('Send me a copy of my letter').check();
    await page.getByRole('button', { name: 'Preview my letter' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Check your letter');
    const letter = page.getByLabel('Your letter');
    const draft = await letter.inputValue();
    expect(draft).toMatch(/^Dear Ambassador,\n/);
    expect(draft).toContain(ownWords);
    expect(draft).toMatch(/Grace Hopper\nArlington$/);
    await check('letters-03-preview');

    await letter.fill(draft.replace('Yours sincerely,', 'Thank you for reading this.\n\nYours sincerely,'));
    await page.getByRole('button', { name: 'Send my letter' }).click();
    await page.waitForURL(/\/letters\/check-email\?to=\d+$/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Check your email');
    await check('letters-04-check-email');

    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toContain('Confirm your letter');
    const link = /(http:\/\/127\.0\.0\.1:\d+\/letters\/\S+\/confirm)/.exec(mail!.text ?? '')![1]!;
    await page.goto(link);
    await expect(page.locator('.letter-body').textContent()).resolves.toContain('Thank you for reading this.');
    await check('letters-05-confirm');
    expect(smtp.mails).toHaveLength(1); // opening the link sent nothing

    await page.getByRole('button', { name: 'Confirm and send my letter' }).click();
    await page.waitForURL(/\/letters\/\d+\.[\w-]{27}$/);
    await smtp.waitFor(3);
    await server.services.sender.idle();
    await page.reload();
    await expect(page.locator('[data-state]').textContent()).resolves.toBe('Sent');
    await check('letters-06-status-sent');

    const delivered = smtp.mails.find((m) => m.to && 'text' in m.to && m.to.text === 'rappnat.mail@esteri.it');
    expect(delivered!.text).toContain('Thank you for reading this.');
    expect(delivered!.replyTo!.text).toBe('grace@example.org');

    await page.getByRole('link', { name: 'See the letters sent so far' }).click();
    await expect(page.locator('.letter-counts').textContent()).resolves.toMatch(/Italy\s*1\s*0/);
    await check('letters-07-demand');

    expect(visited).toHaveLength(7);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });

  it('sends it oneself to a delegation without an address: mailto, copy, print, "I have sent it"', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(`${server.url}/demands/civic-freedoms/letters/new?lang=fr`);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
    await page.getByLabel('À la délégation de quel pays voulez-vous écrire ?').selectOption('FR');
    await page.getByLabel('Nom complet').fill('Marie Curie');
    await page.getByLabel('Adresse e-mail').fill('marie@example.org');
    await page
      .getByLabel('Pourquoi est-ce important pour vous ?')
      .fill('Mon journal local a été fermé après une enquête.');
    await page.getByRole('button', { name: 'Voir ma lettre' }).click();
    await expect(page.getByLabel('Votre lettre').inputValue()).resolves.toMatch(/^À l'attention de : Représentation/);
    await check('letters-08-preview-self');

    // France has no known email: by default the letter joins the next hand-in pack; Marie sends it herself.
    await page.getByLabel("Je l'enverrai moi-même").check();
    await page.getByRole('button', { name: 'Envoyer ma lettre' }).click();
    // The same answer as for any letter: the letter comes by mail, to the writer's address only.
    await page.waitForURL(/\/letters\/check-email\?to=\d+&by=self$/);
    await expect(page.locator('.lead').textContent()).resolves.toContain('un lien vers votre lettre');
    await check('letters-09-check-email-self');
    const toMarie = () => smtp.mails.filter((m) => m.to && 'text' in m.to && m.to.text === 'marie@example.org');
    while (toMarie().length === 0) await smtp.waitFor(smtp.mails.length + 1);
    const [mail] = toMarie();
    expect(mail!.text).not.toContain('Mon journal local');
    const link = /(http:\/\/127\.0\.0\.1:\d+\/letters\/\d+\.[\w-]{27})(?=\s)/.exec(mail!.text ?? '')![1]!;
    await page.goto(link);
    const href = await page.getByRole('link', { name: "L'ouvrir dans ma messagerie" }).getAttribute('href');
    const mailto = new URL(href!);
    expect(mailto.searchParams.get('body')).toContain('Mon journal local a été fermé après une enquête.');
    await page.getByRole('button', { name: 'Copier la lettre' }).click();
    // The status is written once the clipboard has taken the text, a moment after the click: wait for it.
    await page.waitForFunction(() => document.querySelector('.copy-status')?.textContent === 'Lettre copiée');
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(
      mailto.searchParams.get('body')!.replace(/\r\n/g, '\n'),
    );
    await check('letters-10-self-send');

    await page.getByRole('link', { name: "L'imprimer" }).click();
    await expect(page.getByRole('button', { name: 'Imprimer cette lettre' }).isVisible()).resolves.toBe(true);
    await check('letters-11-print');
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('.site-header').isVisible()).resolves.toBe(false);
    await expect(page.locator('.letter-body').isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: 'screen' });

    await page.getByRole('link', { name: 'Retour à votre lettre' }).click();
    await page.getByRole('button', { name: "Je l'ai envoyée" }).click();
    await expect(page.locator('[data-state]').textContent()).resolves.toBe('Envoyée par vous');
    await check('letters-12-self-sent');
    expect(toMarie()).toHaveLength(1); // the link, and nothing more

    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
