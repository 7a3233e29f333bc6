import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { createAccount, password, seedSignatures, type SeedSignature } from '../helpers/admin';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';

const slug = 'fund-defence-fairly';
const dayMs = 24 * 60 * 60 * 1000;

describe('the organiser console in a browser', () => {
  const browser = browserSession({ acceptDownloads: true });
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer();
    await createAccount(server.services, 'ada@example.org', 'admin');
    // Signatures validated over the last three weeks, so the chart has bars to draw.
    const now = Date.now();
    const rows: SeedSignature[] = [];
    for (let i = 0; i < 60; i++) {
      rows.push({
        petition: slug,
        name: i === 0 ? 'Zoë Łukasz 李雷' : `Signer ${i}`,
        email: `signer${i}@example.org`,
        country: ['FR', 'DE', 'PL', 'GB'][i % 4]!,
        createdAt: now - (i % 21) * dayMs,
      });
    }
    await seedSignatures(server.services, rows);
  });
  afterAll(() => server.close());
  beforeEach(() => ({ page } = browser));

  it('logs in, shows the chart, exports a CSV, and logs out', async () => {
    await page.goto(`${server.url}/admin`);
    await page.waitForURL(/\/admin\/login\?next=/);
    await check('admin-01-login');
    await page.getByLabel('Email address').fill('ada@example.org');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${server.url}/admin`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Dashboard');
    const bars = page.locator('figure.chart svg rect');
    await expect(bars.count()).resolves.toBe(30);
    const heights = await bars.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(heights.filter((h) => h > 0).length).toBeGreaterThanOrEqual(20);
    await expect(page.locator('svg[role="img"] title').first().textContent()).resolves.toContain('last 30 days');
    await check('admin-02-dashboard');

    await page.getByRole('link', { name: 'Last 90 days' }).click();
    await expect(page.locator('figure.chart svg rect').count()).resolves.toBe(90);

    for (const [link, name] of [
      ['Petitions', 'admin-03-petitions'],
      ['Addressees', 'admin-04-targets'],
      ['Signatures', 'admin-05-signatures'],
      ['Audit log', 'admin-06-audit'],
      ['Accounts', 'admin-07-accounts'],
    ] as const) {
      await page.getByRole('navigation', { name: 'Organiser console' }).getByRole('link', { name: link }).click();
      await expect(page.locator('h1').textContent()).resolves.toContain(link === 'Addressees' ? 'Addressees' : link);
      await check(name);
    }
    await page.goto(`${server.url}/admin/petitions/${slug}/edit`);
    await check('admin-08-petition-edit');
    await page.goto(`${server.url}/admin/signatures/invalidate?preview=1&domain=example.org`);
    await expect(page.locator('#preview-count').textContent()).resolves.toContain('60');
    await check('admin-09-invalidate-preview');
    await page.goto(`${server.url}/admin/signatures/erase?email=signer1%40example.org`);
    await check('admin-10-erase');
    await page.goto(`${server.url}/admin/targets/new`);
    await check('admin-11-target-new');
    await page.goto(`${server.url}/admin?lang=fr`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Tableau de bord');
    await check('admin-12-dashboard-fr');
    await page.goto(`${server.url}/admin/exports?lang=en`);
    await check('admin-13-exports');

    await page.getByLabel('Petition').selectOption(slug);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect(download.suggestedFilename()).toBe(`signatures-${slug}-${today}.csv`);
    const rows = parse(fs.readFileSync((await download.path())!, 'utf8'), { bom: true, columns: true }) as Array<
      Record<string, string>
    >;
    expect(rows).toHaveLength(60);
    expect(rows.map((r) => r.name)).toContain('Zoë Łukasz 李雷');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/admin\/login\?notice=loggedOut$/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('You have logged out.');
    await check('admin-14-logged-out');
    await page.goto(`${server.url}/admin`);
    await page.waitForURL(/\/admin\/login\?next=/);

    expect(visited).toHaveLength(14);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
