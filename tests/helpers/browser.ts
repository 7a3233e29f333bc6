import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const screenshotDir = path.join(__dirname, '..', 'e2e', 'screenshots');

/** Debian's Chromium, headless; never a downloaded browser. `args`: more command-line switches. */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...args,
    ],
  });
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** Runs axe-core on the page as it is; the page's CSP is bypassed by the context to inject it. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every page `check` looked at in the current test, with its axe-core violations. */
  visited: Array<{ url: string; violations: AxeViolation[] }>;
  /** Screenshots the page as it is and runs axe-core on it. */
  check(name: string): Promise<void>;
}

/**
 * Chromium for a describe block, with a fresh context and page for each test. Call it in the block:
 * it registers the hooks. The context bypasses the page's CSP only so that axe-core can be injected;
 * the app's pages otherwise run under their own policy.
 */
export function browserSession(options: BrowserContextOptions = {}, args: string[] = []): BrowserSession {
  let browser: Browser | undefined;
  const session: BrowserSession = {
    context: undefined as unknown as BrowserContext,
    page: undefined as unknown as Page,
    visited: [],
    async check(name) {
      await screenshot(session.page, name);
      session.visited.push({ url: session.page.url(), violations: await axeViolations(session.page) });
    },
  };
  beforeAll(async () => {
    browser = await launchChromium(args);
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    session.context = await browser!.newContext({ ...options, bypassCSP: true });
    session.page = await session.context.newPage();
    session.visited.length = 0;
  });
  afterEach(() => session.context.close());
  return session;
}
