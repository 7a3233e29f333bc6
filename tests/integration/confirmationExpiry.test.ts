import { confirm, confirmPath, countOn, createTestApp, csrfFrom, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const day = 24 * 60 * 60 * 1000;

describe('a signature confirmation link, as time passes', () => {
  let t: TestApp;
  let now: number;
  beforeEach(async () => {
    now = Date.UTC(2026, 2, 10, 9, 0, 0);
    t = await createTestApp({ clock: () => now });
  });
  afterEach(() => t.close());

  async function signed() {
    const agent = t.agent();
    expect((await sign(agent, slug)).status).toBe(303);
    const [mail] = await t.smtp!.waitFor(1);
    expect(mail!.text).toContain('30 days');
    return { agent, link: confirmPath(mail!.text) };
  }

  it('still confirms on the last day of its 30', async () => {
    const { agent, link } = await signed();
    now += 30 * day - 60_000;
    expect((await confirm(agent, link)).status).toBe(303);
    expect(await countOn(agent, slug)).toBe(1);
  });

  it('answers 410 with a page that says the link expired and what to do, once 30 days have passed', async () => {
    const { agent, link } = await signed();
    // The page with the Confirm button is opened in time; the button is pressed too late.
    const page = await agent.get(link).expect(200);
    now += 30 * day + 60_000;

    const opened = await agent.get(link);
    expect(opened.status).toBe(410);
    expect(opened.text).toContain('This link has expired');
    expect(opened.text).toContain('Confirmation links work for a limited time.');
    expect(opened.text).not.toContain('Confirm my signature');

    const pressed = await agent
      .post(link)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(pressed.status).toBe(410);
    expect(pressed.text).toContain('This link has expired');
    expect(await countOn(agent, slug)).toBe(0);
  });
});
