import { sql } from 'kysely';
import request from 'supertest';
import { createAccount, login, password, sessionCookie } from '../helpers/admin';
import { createTestApp, csrfFrom, type TestApp } from '../helpers/testApp';

describe('GET and POST /admin/login, before anyone logs in', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'ada@example.org', 'admin');
  });
  afterEach(() => t.close());

  const sessions = async () =>
    (await t.services.store.first(sql<{ n: number }>`SELECT count(*) AS n FROM sessions`))!.n;

  it('writes no session row for visits and failed logins; a successful login makes the one', async () => {
    const agent = t.agent();
    for (let i = 0; i < 10; i++) {
      // A crawler without cookies, and one visitor coming back.
      const crawled = await request(t.app).get(`/admin/login?next=/admin/p${i}`).expect(200);
      expect(sessionCookie(crawled)).toBeUndefined();
      expect(sessionCookie(await agent.get('/admin/login').expect(200))).toBeUndefined();
    }
    for (const email of ['ada@example.org', 'nobody@example.org']) {
      for (let i = 0; i < 2; i++) {
        const failed = await login(agent, email, `wrong password ${i}`);
        expect(failed.status).toBe(401);
        expect(failed.text).toContain('name="_csrf"');
        expect(sessionCookie(failed)).toBeUndefined();
      }
    }
    await agent.post('/admin/login').type('form').send({ email: 'ada@example.org', password }).expect(403);
    expect(await sessions()).toBe(0);

    const res = await login(agent, 'ada@example.org');
    expect(res.status).toBe(303);
    expect(sessionCookie(res)).toBeDefined();
    expect((await agent.get('/admin').expect(200)).text).toContain('Logged in as ada@example.org');
    expect(await sessions()).toBe(1);
  });

  it('refuses a login without a valid token with its cookie, and starts no session', async () => {
    const visitor = t.agent();
    const page = await visitor.get('/admin/login').expect(200);
    const token = csrfFrom(page.text);
    const attempt = (agent: ReturnType<TestApp['agent']>, fields: Record<string, string>) =>
      agent
        .post('/admin/login')
        .type('form')
        .send({ email: 'ada@example.org', password, ...fields });

    await attempt(visitor, {}).expect(403); // no token
    await attempt(visitor, { _csrf: `${token.slice(0, -4)}AAAA` }).expect(403); // altered
    await attempt(visitor, { _csrf: 'forged' }).expect(403);
    await attempt(t.agent(), { _csrf: token }).expect(403); // the token without its cookie
    // Another visitor's cookie with this token.
    const other = t.agent();
    await other.get('/admin/login').expect(200);
    await attempt(other, { _csrf: token }).expect(403);
    expect(await sessions()).toBe(0);

    await attempt(visitor, { _csrf: token }).expect(303);
    expect(await sessions()).toBe(1);
  });
});
