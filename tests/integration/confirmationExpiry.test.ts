import { confirm, confirmPath, countOn, createTestApp, sign, type TestApp } from '../helpers/testApp';

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
    await agent.get(link).expect(200);
    now += 30 * day + 60_000;

    const opened = await agent.get(link);
    expect(opened.status).toBe(410);
    expect(opened.text).toContain('This link has expired');
    expect(opened.text).toContain('Confirmation links work for a limited time.');
    expect(opened.text).not.toContain('Confirm my signature');

    const pressed = await agent.post(link).type('form').send({});
    expect(pressed.status).toBe(410);
    expect(pressed.text).toContain('This link has expired');
    expect(await countOn(agent, slug)).toBe(0);
  });
});

describe('signing again while a signature waits for confirmation', () => {
  let t: TestApp;
  let now: number;
  beforeEach(async () => {
    now = Date.UTC(2026, 2, 10, 9, 0, 0);
    t = await createTestApp({ clock: () => now });
  });
  afterEach(() => t.close());

  const row = () =>
    t.services.store.all(
      t.services.store.qb
        .selectFrom('signatures')
        .select(['name', 'country_code as country', 'state'])
        .where('email', '=', 'olive@example.org'),
    );

  it('mails a new link once the old one expired, and the new one confirms', async () => {
    const agent = t.agent();
    const owner = { name: 'Olive Owner', email: 'olive@example.org', country: 'DE' };
    expect((await sign(agent, slug, owner)).status).toBe(303);
    const [first] = await t.smtp!.waitFor(1);
    now += 31 * day;
    expect((await agent.get(confirmPath(first!.text))).status).toBe(410);

    expect((await sign(agent, slug, owner)).status).toBe(303);
    const [, second] = await t.smtp!.waitFor(2);
    expect((await confirm(agent, confirmPath(second!.text))).status).toBe(303);
    expect(await countOn(agent, slug)).toBe(1);
  });

  it('lets the owner of an address a stranger typed first sign under their own name, with only their link', async () => {
    const agent = t.agent();
    expect(
      (await sign(agent, slug, { name: 'Mallory Stranger', email: 'olive@example.org', country: 'FR' })).status,
    ).toBe(303);
    now += 60_000;
    expect((await sign(agent, slug, { name: 'Olive Owner', email: 'olive@example.org', country: 'DE' })).status).toBe(
      303,
    );
    const [strangers, owners] = await t.smtp!.waitFor(2);
    expect(owners!.text).toContain('Olive Owner');

    // The stranger's link no longer confirms anything; the owner's confirms what the owner typed.
    expect((await agent.get(confirmPath(strangers!.text))).status).toBe(404);
    expect((await confirm(agent, confirmPath(owners!.text))).status).toBe(303);
    expect(await row()).toEqual([{ name: 'Olive Owner', country: 'DE', state: 'validated' }]);
    const de = await t.services.store.all(
      t.services.store.qb.selectFrom('petition_country_counts').select('validated').where('country_code', '=', 'DE'),
    );
    expect(de).toEqual([{ validated: 1 }]);
  });
});
