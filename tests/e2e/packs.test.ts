import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { createAccount, password } from '../helpers/admin';
import { browserSession } from '../helpers/browser';
import { appEnv, runCli } from '../helpers/cli';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { formatDay, isoDay } from '../../server/time/dates';

const signer = 'Ελένη Παπαδοπούλου';
const delegation = 'Permanent Delegation of the Federal Republic of Germany to NATO';

/**
 * The "done when", in a browser against the real server and SMTP: a supporter signs for
 * Germany and confirms from the mail; `npm run deliver -- --now` (the real command, on the server's
 * database) makes Germany's hand-in pack; an organiser downloads its PDF, finds the name in it and
 * records it as posted; the petition page lists the delivery, /verify shows the pack, and the
 * signer's confirmation link now says where their signature went.
 */
describe('a hand-in pack from signature to public record, in a browser', () => {
  const browser = browserSession({ acceptDownloads: true });
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    // Only the command line plans here, as when cron runs `npm run deliver`.
    server = await startServer({ SMTP_URL: smtp.url, DELIVERY_IN_SERVER: 'false' });
    await createAccount(server.services, 'ada@example.org', 'organiser');
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });
  beforeEach(() => ({ page } = browser));

  it('signs for Germany, runs deliver --now, downloads and records the pack, and the public record shows it', async () => {
    await page.goto(`${server.url}/petitions/fund-defence-fairly`);
    await page.getByLabel('Full name').fill(signer);
    await page.getByLabel('Email address').fill('eleni@example.org');
    await page.getByLabel('Country', { exact: true }).selectOption('DE');
    await page.getByRole('button', { name: 'Sign this petition' }).click();
    await page.waitForURL(/\/check-email\?to=[\w.-]+$/);
    const [mail] = await smtp.waitFor(1);
    const confirm = /(http:\/\/127\.0\.0\.1:\d+\/signatures\/\S+\/confirm)/.exec(mail!.text ?? '')![1]!;
    await page.goto(confirm);
    await page.getByRole('button', { name: 'Confirm my signature' }).click();
    await page.waitForURL(/\/thanks(\?country=[A-Z]{2})?$/);

    const run = await runCli('server/delivery/cli.ts', ['--now'], {
      ...appEnv(server),
      SMTP_URL: smtp.url,
      BASE_URL: server.url,
    });
    expect(run.stderr).toContain('made 1 hand-in pack due (1 signature, 0 letters)');
    expect(run.code).toBe(0);
    expect(smtp.mails).toHaveLength(1); // a pack is printed, not mailed

    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server.url}/admin`);
    // The dashboard's delivery table says the pack is due and leads to it.
    await expect(page.getByRole('link', { name: 'Due to be handed in' }).getAttribute('href')).resolves.toBe(
      '/admin/packs',
    );
    await page
      .getByRole('navigation', { name: 'Organiser console' })
      .getByRole('link', { name: 'Hand-in packs' })
      .click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Hand-in packs');
    const germany = page.getByRole('region', { name: `${delegation} (Germany)` });
    await expect(
      germany
        .getByRole('table', { name: `Due: ${delegation}` })
        .locator('tbody tr')
        .count(),
    ).resolves.toBe(1);
    await check('packs-01-console-due');
    await page.goto(`${server.url}/admin/packs?lang=fr`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Dossiers à remettre');
    await check('packs-02-console-due-fr');
    await page.goto(`${server.url}/admin/packs?lang=en`);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'PDF of pack 1' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('pack-fund-defence-fairly-de-1.pdf');
    const file = (await download.path())!;
    expect(fs.readFileSync(file).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(signer);
    const printed = new RegExp(`${server.url.replace(/\./g, '\\.')}/verify/([0-9a-f]{12})`).exec(text);
    expect(printed).not.toBeNull();
    const short = printed![1]!;
    // The CSV beside it: its SHA-256, as `sha256sum` would give it, is the one the pack prints.
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV of pack 1' }).click(),
    ]);
    const csv = fs.readFileSync((await csvDownload.path())!);
    expect(csv.toString('utf8')).toContain(signer);
    const sha = crypto.createHash('sha256').update(csv).digest('hex');
    expect(sha.slice(0, 12)).toBe(short);
    expect(text.replace(/\s+/g, '')).toContain(sha);

    // Recorded as posted today, with its tracking number.
    const today = isoDay(Date.now()); // the day in Brussels, as the form judges it
    const form = page.getByRole('form', { name: 'Record pack 1' });
    await form.getByLabel('Day it was handed in or posted').fill(today);
    await form.getByLabel('How').selectOption('post');
    await form.getByLabel('Reference (optional)').fill('RR123456785DE');
    await form.getByRole('button', { name: 'Record' }).click();
    await page.waitForURL(/\/admin\/packs\?done=recorded-post$/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('The pack is recorded as posted.');
    const recorded = germany.getByRole('table', { name: `Recorded: ${delegation}` }).locator('tbody tr');
    await expect(recorded.count()).resolves.toBe(1);
    const row = await recorded.textContent();
    expect(row).toContain('posted');
    expect(row).toContain('RR123456785DE');
    expect(row).toContain(short);
    await expect(germany.textContent()).resolves.toContain('No pack is due.');
    await check('packs-03-console-recorded');

    // The public petition page lists the delivery: by post, one signature, the SHA-256 printed in the pack.
    await page.goto(`${server.url}/petitions/fund-defence-fairly`);
    const deliveries = page.locator('.deliveries-table tbody tr');
    await expect(deliveries.count()).resolves.toBe(1);
    const delivery = (await deliveries.textContent())!.replace(/\s+/g, ' ');
    expect(delivery).toContain(delegation);
    expect(delivery).toContain(formatDay(Date.parse(today), 'en'));
    expect(delivery).toContain('By post or hand-in 1 0');
    expect(delivery).toContain(short);
    await check('packs-04-petition');
    await page.goto(`${server.url}/petitions/fund-defence-fairly?lang=fr`);
    await expect(page.locator('.deliveries-table').textContent()).resolves.toContain(
      formatDay(Date.parse(today), 'fr'),
    );
    await check('packs-05-petition-fr');

    await page.goto(`${server.url}/petitions/fund-defence-fairly?lang=en`);
    await page.getByRole('link', { name: `Verify ${short}` }).click();
    await page.waitForURL(new RegExp(`/verify/${short}$`));
    const verdict = (await page.locator('main').textContent())!.replace(/\s+/g, ' ');
    expect(verdict).toContain('Hand-in pack 1');
    expect(verdict).toContain(`Handed in or posted on ${formatDay(Date.parse(today), 'en')}`);
    expect(verdict).toContain(delegation);
    expect(verdict).not.toContain(signer);
    await check('packs-06-verify');
    // Anyone holding the CSV pastes its whole SHA-256 into the form and gets the same pack.
    await page.getByLabel('SHA-256 of the CSV file').fill(sha.toUpperCase());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/verify\?/);
    await expect(page.locator('main').textContent()).resolves.toContain('Hand-in pack 1');
    await expect(page.locator('main').textContent()).resolves.toContain(sha);
    await page.goto(`${server.url}/verify/${short}?lang=fr`);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
    await check('packs-07-verify-fr');

    // The signer's receipt: the confirmation link, opened again, says where the signature went.
    await page.goto(`${confirm}?lang=en`);
    await expect(page.locator('.standing').textContent()).resolves.toBe(
      `Delivered to ${delegation} on ${formatDay(Date.parse(today), 'en')} by post or hand-in, in pack 1.`,
    );
    await check('packs-08-receipt');
    // It leads on, as the thanks page does: share (each channel with its source code), write, sign more.
    const petitionUrl = `${server.url}/petitions/fund-defence-fairly`;
    const share = (channel: string) => encodeURIComponent(`${petitionUrl}?source=share-${channel}`);
    await expect(page.getByRole('link', { name: 'Facebook', exact: true }).getAttribute('href')).resolves.toBe(
      `https://www.facebook.com/sharer/sharer.php?u=${share('facebook')}`,
    );
    await expect(page.getByRole('link', { name: 'X', exact: true }).getAttribute('href')).resolves.toContain(
      `&url=${share('x')}`,
    );
    await expect(page.getByRole('link', { name: 'WhatsApp', exact: true }).getAttribute('href')).resolves.toContain(
      share('whatsapp'),
    );
    await expect(page.getByRole('link', { name: 'Email', exact: true }).getAttribute('href')).resolves.toContain(
      share('email'),
    );
    await expect(page.getByLabel('Link to this petition').inputValue()).resolves.toBe(
      `${petitionUrl}?source=share-copy`,
    );
    await expect(page.getByRole('link', { name: 'Write to your delegation' }).getAttribute('href')).resolves.toBe(
      '/demands/progressive-taxation/letters/new?country=DE',
    );
    await expect(page.locator('.other-petitions a').count()).resolves.toBe(4);
    await page.goto(`${confirm}?lang=fr`);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
    await expect(page.getByRole('link', { name: 'Écrire à votre délégation' }).getAttribute('href')).resolves.toBe(
      '/demands/progressive-taxation/letters/new?country=DE',
    );
    await expect(page.locator('#share-url').inputValue()).resolves.toBe(`${petitionUrl}?source=share-copy`);
    await check('packs-09-receipt-fr');

    expect(visited).toHaveLength(9);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
