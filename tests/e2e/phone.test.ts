import type { Page } from 'playwright-core';
import { browserSession } from '../helpers/browser';
import { startServer, type RunningServer } from '../helpers/server';

const petitions = [
  'fund-defence-fairly',
  'halt-unlawful-arms-transfers',
  'stay-in-mine-and-cluster-bans',
  'ban-weapons-that-target-people',
  'protect-civil-society',
];
const phone = { width: 390, height: 844 };

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Where an element sits on the page, scrolled to the top. */
async function box(page: Page, selector: string) {
  const found = await page.locator(selector).first().boundingBox();
  if (!found) throw new Error(`${selector} is not shown`);
  return found;
}

/** The focus ring as drawn: GOV.UK's yellow with black, on the element that has focus. */
function focusStyle(page: Page) {
  return page.evaluate(() => {
    const style = getComputedStyle(document.activeElement!);
    return `${style.outlineColor} ${style.outlineStyle} ${style.backgroundColor} ${style.boxShadow}`;
  });
}

describe('the petition page on a phone (390 × 844)', () => {
  const browser = browserSession({ viewport: phone, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const { visited, check } = browser;

  it('shows the count, the progress bar and the sign form’s first field on the first screen, in English and French', async () => {
    const { page } = browser;
    for (const slug of petitions) {
      for (const lang of ['en', 'fr']) {
        await page.goto(`${server.url}/petitions/${slug}?lang=${lang}`);
        const where = `${slug} (${lang})`;
        const count = await box(page, '.petition-side .count');
        const bar = await box(page, '.petition-side .thermometer');
        const field = await box(page, '#field-name');
        const text = await box(page, '.petition-body');
        expect([where, field.y + field.height <= phone.height]).toEqual([where, true]);
        // In the page's own order: count, bar, form, then the petition's text.
        expect([where, count.y < bar.y && bar.y < field.y && field.y < text.y]).toEqual([where, true]);
        // One column: nothing beside the form, nothing wider than the screen.
        expect([where, await page.evaluate(() => document.documentElement.scrollWidth)]).toEqual([where, phone.width]);
      }
    }
    await page.goto(`${server.url}/petitions/halt-unlawful-arms-transfers?lang=fr`);
    await check('phone-01-petition-fr');
    await page.goto(`${server.url}/petitions/fund-defence-fairly?lang=en`);
    await check('phone-02-petition-en');
    // The text is one tap away, and from its end the form is one tap away again.
    await page.getByRole('link', { name: 'Read the petition first' }).click();
    await expect(page.evaluate(() => location.hash)).resolves.toBe('#petition-text');
    await page.getByRole('link', { name: 'Sign this petition' }).click();
    await expect(page.evaluate(() => location.hash)).resolves.toBe('#sign-heading');
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });

  it('draws a focus ring of GOV.UK yellow and black on links, fields, buttons and textareas', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/petitions/fund-defence-fairly`);
    await page.locator('#field-name').focus();
    expect(await focusStyle(page)).toMatch(/^rgb\(255, 221, 0\) solid .*rgb\(11, 12, 12\) 0px 0px 0px 2px inset$/);
    await page.getByRole('button', { name: 'Sign this petition' }).focus();
    expect(await focusStyle(page)).toMatch(/rgb\(255, 221, 0\) rgb\(11, 12, 12\) 0px 2px 0px 0px$/);
    await page.locator('.eyebrow a').focus();
    expect(await focusStyle(page)).toMatch(
      /rgb\(255, 221, 0\) rgb\(255, 221, 0\) 0px -2px 0px 0px, rgb\(11, 12, 12\) 0px 4px/,
    );
    await page.locator('#field-updates').focus();
    expect(await focusStyle(page)).toMatch(/^rgb\(11, 12, 12\) solid .*rgb\(255, 221, 0\)/);
    await page.goto(`${server.url}/demands/progressive-taxation/letters/new`);
    await page.locator('textarea').first().focus();
    expect(await focusStyle(page)).toMatch(/^rgb\(255, 221, 0\) solid .*rgb\(11, 12, 12\) 0px 0px 0px 2px inset$/);
  });

  it('lets the letter preview’s textarea grow to its text instead of scrolling inside the page', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/demands/progressive-taxation/letters/new`);
    await page.getByLabel("Which country's delegation do you want to write to?").selectOption('IT');
    await page.getByLabel('Full name').fill('Grace Hopper');
    await page.getByLabel('Email address').fill('grace@example.org');
    await page.getByLabel('Why does this matter to you?').fill('My sister is a nurse, and her ward lost two beds.');
    await page.getByRole('button', { name: 'Preview my letter' }).click();
    const letter = page.getByLabel('Your letter');
    const sizes = await letter.evaluate((el: HTMLTextAreaElement) => ({
      scroll: el.scrollHeight,
      client: el.clientHeight,
      width: el.getBoundingClientRect().right,
    }));
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.client + 1);
    expect(sizes.client).toBeGreaterThan(phone.height);
    expect(sizes.width).toBeLessThanOrEqual(phone.width);
    // Even without field-sizing, the rows the server gives hold the whole letter.
    await letter.evaluate((el: HTMLTextAreaElement) => el.style.setProperty('field-sizing', 'fixed'));
    const fixed = await letter.evaluate((el: HTMLTextAreaElement) => el.scrollHeight <= el.clientHeight + 1);
    expect(fixed).toBe(true);
    await check('phone-03-letter-preview');
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});

describe('the petition page on a desktop (1280 × 800)', () => {
  const browser = browserSession({ viewport: { width: 1280, height: 800 } });
  const { visited, check } = browser;

  it('puts the text on the left and the count with the sign form beside it, the form starting on the first screen', async () => {
    const { page } = browser;
    for (const lang of ['en', 'fr']) {
      await page.goto(`${server.url}/petitions/fund-defence-fairly?lang=${lang}`);
      const text = await box(page, '.petition-body');
      const side = await box(page, '.petition-side');
      const more = await box(page, '.petition-more');
      const field = await box(page, '#field-name');
      expect(text.x + text.width).toBeLessThan(side.x);
      expect(Math.abs(text.y - side.y)).toBeLessThan(5);
      expect(more.y).toBeGreaterThan(side.y + side.height);
      expect(field.y + field.height).toBeLessThanOrEqual(800);
      // The phone's in-page links are not shown beside the text.
      await expect(page.getByRole('link', { name: /Read the petition first|Lire d'abord/ }).isVisible()).resolves.toBe(
        false,
      );
      await check(`desktop-01-petition-${lang}`);
    }
    expect(visited.filter((v) => v.violations.length > 0)).toEqual([]);
  });
});
