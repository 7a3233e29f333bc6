import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { createTestApp, sameOrigin, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

/**
 * Sends the headers of a form POST that says it is `declared` bytes long, then only `sent` of them,
 * and keeps the connection open: a parser that reads the body waits for the rest; a route that
 * answers without it answers at once. Resolves with the status, or 'waiting' after `waitMs`.
 */
function postHalfABody(
  server: http.Server,
  path: string,
  declared: number,
  sent: number,
  waitMs = 1500,
): Promise<number | 'waiting'> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': declared, ...sameOrigin },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('waiting');
    }, waitMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      req.destroy();
      resolve(res.statusCode!);
    });
    req.on('error', (error) => (timer.hasRef() ? reject(error) : undefined));
    req.write(`bodyEn=${'x'.repeat(sent - 7)}`);
  });
}

describe('the console’s large forms', () => {
  let t: TestApp;
  let server: http.Server;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'org@example.org', 'organiser');
    server = await new Promise<http.Server>((resolve) => {
      const s = http.createServer(t.app).listen(0, '127.0.0.1', () => resolve(s));
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  // 100 kB: over the site-wide 16 kB, under the composer's 256 kB and the answers' 128 kB.
  it.each([`/admin/updates/${slug}/send`, `/admin/updates/${slug}/preview`, '/admin/responses', '/admin/responses/1'])(
    'refuses an anonymous POST to %s before reading its body',
    async (path) => {
      expect(await postHalfABody(server, path, 100_000, 60_000)).toBe(403);
    },
  );

  it('still reads a public letter’s long body (the same parser, on the letter forms only)', async () => {
    expect(await postHalfABody(server, '/demands/progressive-taxation/letters/preview', 100_000, 60_000)).toBe(
      'waiting',
    );
  });

  it('refuses an anonymous POST with more fields than the large forms allow as a login refusal, not a 413', async () => {
    const fields = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, 'x']));
    const res = await t.agent().post(`/admin/updates/${slug}/send`).type('form').send(fields);
    expect(res.status).toBe(403);
  });

  it('lets a logged-in organiser preview a 20,000-character update and record a 10,000-character answer', async () => {
    const agent = t.agent();
    await login(agent, 'org@example.org');
    const token = await consoleToken(agent, `/admin/updates/${slug}/new`);
    const long = `Merci.\n\n${'é'.repeat(19_990)}`;
    const preview = await agent.post(`/admin/updates/${slug}/preview`).type('form').send({
      _csrf: token,
      key: 'a-key-for-this-form-0001',
      subjectEn: 'A long one',
      bodyEn: long,
      subjectFr: 'Une longue',
      bodyFr: long,
    });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('é'.repeat(100));

    const germanyId = (await t.services.targets.forCountry('DE')).find((x) => x.isDefault)!.id;
    const answer = await agent
      .post('/admin/responses')
      .type('form')
      .send({
        _csrf: token,
        target: String(germanyId),
        about: `petition:${slug}`,
        receivedOn: '2026-11-30',
        channel: 'letter',
        body: `We thank the signers. ${'é'.repeat(9_970)}`,
      });
    expect(answer.status).toBe(303);
  });

  it('keeps the site-wide limit on the console’s other forms', async () => {
    const agent = t.agent();
    await login(agent, 'org@example.org');
    const token = await consoleToken(agent);
    const res = await agent
      .post('/admin/signatures/erase')
      .type('form')
      .send({ _csrf: token, email: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
  });
});
