import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Frame, Page } from 'playwright-core';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const slug = 'fund-defence-fairly';
/** The partner's site: another site than ours (127.0.0.1), so our frame is a third party there. */
const partnerHost = 'partner.test';

/**
 * A partner organisation's site, on a second origin: a static page with the snippet, a page that
 * tries to frame an ordinary page of ours, and a probe showing that this browser blocks third-party
 * cookies (a frame from yet another site, localhost, sets a cookie and looks for it on its next load).
 */
async function startPartnerSite(ourUrl: string) {
  const probeCookies: string[] = [];
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><main><h1>${title}</h1>${body}</main></body></html>`;
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    const port = (server.address() as AddressInfo).port;
    if (req.url === '/') {
      res.end(
        page(
          'Partner: our campaign',
          '<p>Sign the petition below.</p>' +
            `<script src="${ourUrl}/embed.js" data-petition="${slug}" data-lang="en" data-title="Sign the petition" async></script>` +
            `<iframe title="cookie probe" src="http://localhost:${port}/probe" width="10" height="10"></iframe>`,
        ),
      );
    } else if (req.url === '/normal') {
      res.end(page('Partner: not embeddable', `<iframe title="petition" src="${ourUrl}/petitions/${slug}"></iframe>`));
    } else if (req.url === '/probe') {
      probeCookies.push(req.headers.cookie ?? '');
      res.setHeader('Set-Cookie', 'probe=1; SameSite=None; Secure; Path=/');
      res.end('<!doctype html><title>probe</title>');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${partnerHost}:${port}`,
    probeCookies,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Our frame on the partner's page, once it has loaded the embed page. */
async function embedFrame(page: Page): Promise<Frame> {
  const iframe = page.locator('.undersigned-embed iframe');
  await iframe.waitFor();
  const frame = (await iframe.elementHandle())!.contentFrame();
  return (await frame)!;
}

/** Waits until the frame element is as tall as the page inside it (embed.js, fed by postMessage). */
async function expectSizedToContent(page: Page, frame: Frame): Promise<number> {
  let inside = 0;
  let outside = -1;
  for (let i = 0; i < 50 && Math.abs(inside - outside) > 1; i++) {
    await page.waitForTimeout(100);
    inside = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
    outside = await page.locator('.undersigned-embed iframe').evaluate((el) => el.getBoundingClientRect().height);
  }
  expect(Math.abs(inside - outside)).toBeLessThanOrEqual(1);
  return outside;
}

describe("the sign form embedded on a partner's site", () => {
  // Third-party cookies blocked: a browser context is like a private window, which blocks them, and
  // the switch says so again. The probe below checks that it holds.
  const browser = browserSession({}, [
    `--host-resolver-rules=MAP ${partnerHost} 127.0.0.1`,
    '--test-third-party-cookie-phaseout',
  ]);
  const { visited, check } = browser;
  let server: RunningServer;
  let smtp: SmtpSink;
  let partner: Awaited<ReturnType<typeof startPartnerSite>>;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    server = await startServer({ SMTP_URL: smtp.url });
    partner = await startPartnerSite(server.url);
  });
  afterAll(async () => {
    await partner.close();
    await server.close();
    await smtp.close();
  });

  it('signs inside the frame with no cookie, says "check your email" there, and counts once confirmed', async () => {
    const { page } = browser;
    await page.goto(partner.url);
    const frame = await embedFrame(page);
    await frame.waitForLoadState();
    expect(new URL(frame.url()).searchParams.get('source')).toBe(`embed-${partnerHost}`);
    await expect(frame.locator('h1').textContent()).resolves.toContain('fund defence fairly');
    await expectSizedToContent(page, frame);
    await check('embed-01-partner-page');

    // Third-party cookies are blocked here: the probe frame's cookie never comes back.
    await page.reload();
    await embedFrame(page);
    expect(partner.probeCookies.length).toBeGreaterThanOrEqual(2);
    expect(partner.probeCookies.every((c) => !c.includes('probe=1'))).toBe(true);

    // An error comes back inside the frame, the partner's page staying where it is.
    const form = await embedFrame(page);
    await form.getByLabel('Full name').fill('Grace Hopper');
    await form.getByLabel('Country', { exact: true }).selectOption('US');
    await form.getByRole('button', { name: 'Sign this petition' }).click();
    await form.waitForURL(/\/embed\/petitions\/fund-defence-fairly\/signatures/);
    await expect(form.locator('.error-summary').textContent()).resolves.toContain('Enter your email address');
    await expect(form.getByLabel('Full name').inputValue()).resolves.toBe('Grace Hopper');
    expect(page.url()).toBe(`${partner.url}/`);
    await expectSizedToContent(page, form);

    await form.getByLabel('Email address').fill('grace@example.org');
    await form.getByRole('button', { name: 'Sign this petition' }).click();
    await form.waitForURL(/\/embed\/petitions\/fund-defence-fairly\/check-email\?lang=en$/);
    await expect(form.locator('h1').textContent()).resolves.toBe('Check your email');
    expect(page.url()).toBe(`${partner.url}/`);
    await expectSizedToContent(page, form);
    await check('embed-02-check-email-in-frame');
    // No cookie was needed, and none was kept for our site.
    expect(await browser.context.cookies(server.url)).toEqual([]);

    // The mail arrives; its link is opened (first-party, in a tab of its own) and confirmed.
    const [mail] = await smtp.waitFor(1);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/signatures\/\S+\/confirm)/.exec(mail!.text ?? '')![1]!;
    const tab = await browser.context.newPage();
    await tab.goto(link);
    await tab.getByRole('button', { name: 'Confirm my signature' }).click();
    await tab.waitForURL(/\/thanks(\?country=[A-Z]{2})?$/);
    await expect(tab.locator('.count').textContent()).resolves.toContain('1 signature');

    const row = await server.services.store.first(
      sql<{ source: string | null; state: string }>`SELECT source, state FROM signatures
       WHERE email = 'grace@example.org'`,
    );
    expect(row).toEqual({ source: `embed-${partnerHost}`, state: 'validated' });
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });

  it('shows the embed page on its own without accessibility problems', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/embed/petitions/${slug}?lang=fr`);
    await expect(page.locator('h1').textContent()).resolves.toContain('OTAN');
    await check('embed-03-frame-alone-fr');
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });

  it("refuses to show an ordinary page of ours in the partner's frame (frame-ancestors 'none')", async () => {
    const { page } = browser;
    const answered = page.waitForResponse((r) => r.url() === `${server.url}/petitions/${slug}`);
    await page.goto(`${partner.url}/normal`);
    const response = await answered;
    expect(/frame-ancestors ([^;]+)/.exec(response.headers()['content-security-policy'] ?? '')?.[1]).toBe("'none'");
    const frame = (await (await page.locator('iframe').elementHandle())!.contentFrame())!;
    await page.waitForTimeout(300);
    // Chromium shows its own error page in place of ours.
    expect(frame.url()).toMatch(/^chrome-error:/);
    await expect(frame.locator('body').textContent()).resolves.not.toContain('fund defence fairly');
  });
});
