import { sendUpdate } from '../helpers/factories';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { aSigner, confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

describe('campaign updates and unsubscribing (RFC 8058)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  async function signedUp(email: string, updates: boolean) {
    const agent = t.agent();
    const before = t.smtp!.mails.length;
    await sign(agent, slug, { ...aSigner, email, ...(updates ? { updates: 'on' } : {}) });
    const mails = await t.smtp!.waitFor(before + 1);
    await confirm(agent, confirmPath(mails[before]!.text));
  }

  it('sends updates only to those who opted in, with one-click unsubscribe headers', async () => {
    await signedUp('yes@example.org', true);
    await signedUp('no@example.org', false);
    const petitionId = (await t.services.store.first(
      t.services.store.qb.selectFrom('petitions').select('id').where('slug', '=', slug),
    ))!.id;
    expect(await sendUpdate(t.services, petitionId, { subject: 'News', message: 'We delivered it.' })).toBe(1);
    await t.services.sender.drain();
    const update = (await t.smtp!.waitFor(3))[2]!;
    expect(update.to).toMatchObject({ text: 'yes@example.org' });
    expect(update.subject).toBe('News');
    expect(update.text).toContain('We delivered it.');
    const header = (name: string) => update.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ');
    const listUnsubscribe = /^List-Unsubscribe: ?<(http:\/\/localhost:3000\/unsubscribe\/\d+\.[\w-]+)>$/.exec(
      header('list-unsubscribe') ?? '',
    );
    expect(listUnsubscribe).not.toBeNull();
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

    const unsubscribePath = new URL(listUnsubscribe![1]!).pathname;
    // A GET (a scanner, a preview) only asks.
    const ask = await request(t.app).get(unsubscribePath).expect(200);
    expect(ask.text).toContain('Unsubscribe');
    expect(await sendUpdate(t.services, petitionId, { subject: 'Again', message: '…' })).toBe(1);

    // The mail provider's one-click POST: no cookie, no CSRF token.
    const done = await request(t.app).post(unsubscribePath).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(done.text).toContain('You are unsubscribed');
    expect(await sendUpdate(t.services, petitionId, { subject: 'Again', message: '…' })).toBe(0);
  });

  it('refuses a forged unsubscribe link', async () => {
    await signedUp('yes@example.org', true);
    const res = await request(t.app).post('/unsubscribe/1.AAAAAAAAAAAAAAAAAAAAAAAAAAA').expect(404);
    expect(res.text).toContain('This link is not valid');
  });
});

describe('mail captured locally when SMTP_URL is unset', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterAll(() => t.close());

  it('writes each mail as an .eml file and lists it at /dev/mailbox with its links clickable', async () => {
    const agent = t.agent();
    await sign(agent, slug);
    await t.services.sender.idle();
    await t.services.sender.drain();
    const mailDir = path.join(t.dir, 'mail');
    const eml = fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
    expect(eml).toHaveLength(1);
    const raw = fs.readFileSync(path.join(mailDir, eml[0]!), 'utf8');
    expect(raw).toContain('To: ada@example.org');
    expect(raw).toContain('Content-Type: text/html');
    expect(raw).toContain('Content-Type: text/plain');

    const box = await agent.get('/dev/mailbox').expect(200);
    expect(box.text).toContain('Confirm your signature');
    const id = /href="\/dev\/mailbox\/([\w-]+)"/.exec(box.text)![1]!;
    const mail = await agent.get(`/dev/mailbox/${id}`).expect(200);
    const link = /<a href="http:\/\/localhost:3000(\/signatures\/[^"]+\/confirm)">/.exec(mail.text)?.[1];
    expect(link).toBeDefined();
    await confirm(agent, link!).then((r) => expect(r.status).toBe(303));
    const html = await agent.get(`/dev/mailbox/${id}/html`).expect(200);
    expect(html.headers['content-security-policy']).toContain('sandbox');
    expect(html.text).toContain('Confirm my signature');
  });

  it('is not served in production', async () => {
    const { createApp } = await import('../../server/app');
    const app = createApp({ ...t.services, config: { ...t.services.config, env: 'production' } });
    await request(app).get('/dev/mailbox').expect(404);
  });
});
