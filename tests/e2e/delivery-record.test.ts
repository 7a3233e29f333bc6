import type { Page } from 'playwright-core';
import { insertBatch } from '../helpers/batches';
import { browserSession } from '../helpers/browser';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { startServer, type RunningServer } from '../helpers/server';

describe('the public delivery record in a browser', () => {
  const browser = browserSession();
  const { visited, check } = browser;
  let page: Page;
  let server: RunningServer;
  let short: string;
  beforeEach(() => ({ page } = browser));
  beforeAll(async () => {
    server = await startServer({ DELIVERY_IN_SERVER: 'false' });
    const store = server.services.store;
    const [de, pl] = await addValidatedSignaturesTo(store, 'fund-defence-fairly', [
      { name: 'Dörte Müller', country: 'DE' },
      { name: 'Jan Kowalski', country: 'PL' },
    ]);
    const pack = await insertBatch(store, {
      petitionSlug: 'fund-defence-fairly',
      country: 'DE',
      channel: 'post',
      signatureIds: [de!],
      letterCount: 1,
      handedInAt: Date.UTC(2026, 10, 30),
    });
    await insertBatch(store, {
      petitionSlug: 'fund-defence-fairly',
      country: 'PL',
      channel: 'email',
      signatureIds: [pl!],
    });
    short = pack.sha!.slice(0, 12);
  });
  afterAll(() => server.close());

  it('shows the deliveries on the petition and demand pages, and /verify, in both languages, axe clean', async () => {
    await page.goto(`${server.url}/petitions/fund-defence-fairly`);
    await expect(page.locator('.deliveries-table tbody tr').count()).resolves.toBe(2);
    await check('record-01-petition');
    await page.goto(`${server.url}/demands/progressive-taxation?lang=fr`);
    await expect(page.locator('.deliveries-table').textContent()).resolves.toContain('30 novembre 2026');
    await check('record-02-demand-fr');

    await page.goto(`${server.url}/petitions/fund-defence-fairly?lang=en`);
    await page.getByRole('link', { name: `Verify ${short}` }).click();
    await page.waitForURL(new RegExp(`/verify/${short}$`));
    await expect(page.locator('.verdict').textContent()).resolves.toContain('30 November 2026');
    await check('record-03-verify');

    await page.getByLabel('SHA-256 of the CSV file').fill('not a hash');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.locator('.field-error').textContent()).resolves.toContain('Enter the SHA-256');
    await check('record-04-verify-error');
    await page.goto(`${server.url}/verify/000000000000?lang=fr`);
    await check('record-05-verify-unknown-fr');

    expect(visited).toHaveLength(5);
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
