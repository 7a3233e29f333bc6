import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { consoleToken, createAccount, login, password, sessionCookie } from '../helpers/admin';
import { createTestApp, csrfFrom, sign, type TestApp } from '../helpers/testApp';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');

function cookieValue(setCookie: string): string {
  return setCookie.split(';')[0]!;
}

describe('organiser login, sessions and CSRF', () => {
  let t: TestApp;
  // A fresh app for each test: none relies on what another did (run them alone with -t, or --randomize).
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'ada@example.org', 'admin');
    await createAccount(t.services, 'grace@example.org', 'organiser');
  });
  afterEach(() => t.close());

  const sessions = () => t.services.db.prepare('SELECT count(*) FROM sessions').pluck().get() as number;

  describe('GET /admin', () => {
    it('sends anonymous visitors to the login page, without starting a session', async () => {
      const before = sessions();
      const res = await request(t.app).get('/admin/petitions?x=1').expect(303);
      expect(res.headers.location).toBe('/admin/login?next=%2Fadmin%2Fpetitions%3Fx%3D1');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(sessions()).toBe(before);
    });

    it('treats the console under another capitalisation as a visitor with no session, never as an error', async () => {
      const agent = t.agent();
      await login(agent, 'ada@example.org');
      for (const path of ['/ADMIN/audit', '/Admin/login', '/aDmIn/petitions']) {
        const res = await agent.get(path);
        expect([200, 303]).toContain(res.status);
      }
    });
  });

  describe('public pages', () => {
    it('never create a session row or send the session cookie, even when signing', async () => {
      const before = sessions();
      const agent = t.agent();
      const home = await agent.get('/').expect(200);
      expect(sessionCookie(home)).toBeUndefined();
      const signed = await sign(agent, 'fund-defence-fairly', {
        name: 'Zoë Public',
        email: 'zoe.public@example.org',
        country: 'FR',
      });
      expect(signed.status).toBe(303);
      expect(sessionCookie(signed)).toBeUndefined();
      expect(sessions()).toBe(before);
    });
  });

  describe('POST /admin/login', () => {
    it('logs in with the right password, with a new session id, and a cookie that is HttpOnly, SameSite=Lax, Path=/admin', async () => {
      const agent = t.agent();
      const page = await agent.get('/admin/login').expect(200);
      expect(sessionCookie(page)).toBeUndefined(); // no session before login
      const res = await agent
        .post('/admin/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), email: 'Ada@Example.org', password });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/admin');
      const after = sessionCookie(res)!;
      expect(after).toMatch(/; HttpOnly/);
      expect(after).toMatch(/; SameSite=Lax/);
      expect(after).toMatch(/; Path=\/admin(;|$)/);
      expect(after).not.toMatch(/; Secure/);
      // The idle timeout is the cookie's lifetime: 30 minutes from now by default.
      const expires = Date.parse(/Expires=([^;]+)/.exec(after)![1]!);
      expect(expires - Date.now()).toBeGreaterThan(29 * 60_000);
      expect(expires - Date.now()).toBeLessThanOrEqual(30 * 60_000 + 1000);

      const dashboard = await agent.get('/admin').expect(200);
      expect(dashboard.text).toContain('Logged in as ada@example.org');
      // Logging in again gives a new id, and the session from before is gone: its id is worth nothing now.
      const again = await agent
        .post('/admin/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), email: 'ada@example.org', password });
      expect(cookieValue(sessionCookie(again)!)).not.toBe(cookieValue(after));
      await request(t.app).get('/admin').set('Cookie', cookieValue(after)).expect(303);
    });

    it('stores the password as an argon2id hash, never as typed', () => {
      const hash = t.services.db
        .prepare("SELECT password_hash FROM organisers WHERE email = 'ada@example.org'")
        .pluck()
        .get() as string;
      expect(hash).toMatch(/^\$argon2id\$v=19\$/);
      expect(hash).not.toContain(password);
    });

    it('answers a wrong password and an unknown address with the same message', async () => {
      const wrong = await login(t.agent(), 'grace@example.org', 'not the password at all');
      const unknown = await login(t.agent(), 'nobody@example.org', 'not the password at all');
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const message = (html: string) => /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)![0];
      expect(message(wrong.text)).toBe(message(unknown.text));
      expect(wrong.text).toContain('value="grace@example.org"');
      expect(wrong.text).not.toContain('not the password at all');
    });

    it('locks an account for 15 minutes after 5 failed attempts in a row, even against the right password', async () => {
      await createAccount(t.services, 'locked@example.org', 'viewer');
      for (let i = 0; i < 5; i++) expect((await login(t.agent(), 'locked@example.org', `wrong-${i}`)).status).toBe(401);
      const refused = await login(t.agent(), 'locked@example.org', password);
      expect(refused.status).toBe(401);
      expect(refused.text).toContain('wait 15 minutes');
      const row = t.services.db
        .prepare("SELECT failed_logins, locked_until FROM organisers WHERE email = 'locked@example.org'")
        .get() as { failed_logins: number; locked_until: number };
      expect(row.failed_logins).toBe(5);
      expect(row.locked_until - Date.now()).toBeGreaterThan(14 * 60_000);
      expect(row.locked_until - Date.now()).toBeLessThanOrEqual(15 * 60_000);

      // Fifteen minutes later the right password works again.
      t.services.db
        .prepare("UPDATE organisers SET locked_until = ? WHERE email = 'locked@example.org'")
        .run(Date.now() - 1);
      expect((await login(t.agent(), 'locked@example.org', password)).status).toBe(303);
    });

    it('refuses a login form without its CSRF token', async () => {
      const agent = t.agent();
      await agent.get('/admin/login').expect(200);
      await agent.post('/admin/login').type('form').send({ email: 'ada@example.org', password }).expect(403);
    });

    it('only follows `next` to pages of the console', async () => {
      const page = await t.agent().get('/admin/login?next=//evil.example/x').expect(200);
      expect(page.text).toContain('name="next" value="/admin"');
      const agent = t.agent();
      const form = await agent.get('/admin/login?next=/admin/targets').expect(200);
      const res = await agent
        .post('/admin/login')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), email: 'ada@example.org', password, next: '/admin/targets' });
      expect(res.headers.location).toBe('/admin/targets');
    });
  });

  describe('POST /admin/logout', () => {
    it('ends the session on the server: the old cookie is refused afterwards', async () => {
      const agent = t.agent();
      const res = await login(agent, 'ada@example.org');
      const cookie = cookieValue(sessionCookie(res)!);
      const sid = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!;
      expect(t.services.db.prepare('SELECT count(*) FROM sessions WHERE sid = ?').pluck().get(sid)).toBe(1);

      const page = await agent.get('/admin').expect(200);
      const out = await agent
        .post('/admin/logout')
        .type('form')
        .send({ _csrf: csrfFrom(page.text) });
      expect(out.status).toBe(303);
      expect(out.headers.location).toBe('/admin/login?notice=loggedOut');
      expect(t.services.db.prepare('SELECT count(*) FROM sessions WHERE sid = ?').pluck().get(sid)).toBe(0);
      const replay = await request(t.app).get('/admin').set('Cookie', cookie);
      expect(replay.status).toBe(303);
      expect(replay.headers.location).toMatch(/^\/admin\/login/);
    });
  });

  describe('timeouts', () => {
    it('ends a session idle for longer than the idle timeout', async () => {
      const agent = t.agent();
      const cookie = cookieValue(sessionCookie(await login(agent, 'ada@example.org'))!);
      await agent.get('/admin').expect(200);
      const sid = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!;
      // 31 minutes without a request: the store's expiry (pushed on by each request) has passed.
      t.services.db.prepare('UPDATE sessions SET expires_at = ? WHERE sid = ?').run(Date.now() - 60_000, sid);
      await request(t.app).get('/admin').set('Cookie', cookie).expect(303);
    });

    it('ends a session 12 hours after login, however active', async () => {
      const agent = t.agent();
      const cookie = cookieValue(sessionCookie(await login(agent, 'ada@example.org'))!);
      await agent.get('/admin').expect(200);
      const sid = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!;
      const row = t.services.db.prepare('SELECT data FROM sessions WHERE sid = ?').pluck().get(sid) as string;
      const data = JSON.parse(row) as { loginAt: number };
      data.loginAt = Date.now() - 12 * 3600_000 - 1000;
      t.services.db.prepare('UPDATE sessions SET data = ? WHERE sid = ?').run(JSON.stringify(data), sid);
      const res = await request(t.app).get('/admin').set('Cookie', cookie);
      expect(res.status).toBe(303);
      expect(t.services.db.prepare('SELECT count(*) FROM sessions WHERE sid = ?').pluck().get(sid)).toBe(0);
    });

    it('sweeps expired sessions from the table', async () => {
      t.services.db
        .prepare("INSERT INTO sessions (sid, data, expires_at) VALUES ('stale', '{}', ?)")
        .run(Date.now() - 1);
      expect(await t.services.admin.sessionStore.sweep()).toBeGreaterThanOrEqual(1);
      expect(t.services.db.prepare("SELECT count(*) FROM sessions WHERE sid = 'stale'").pluck().get()).toBe(0);
    });
  });

  describe('CSRF on organiser forms', () => {
    it('refuses a form without its token, with a wrong one, or with another session’s', async () => {
      const agent = t.agent();
      await login(agent, 'grace@example.org');
      const other = t.agent();
      await login(other, 'grace@example.org');
      const othersToken = csrfFrom((await other.get('/admin').expect(200)).text);
      const ownToken = csrfFrom((await agent.get('/admin').expect(200)).text);
      const path = '/admin/petitions/fund-defence-fairly/state';
      for (const body of [
        { state: 'closed' },
        { state: 'closed', _csrf: 'x'.repeat(256) },
        { state: 'closed', _csrf: othersToken },
      ]) {
        const res = await agent.post(path).type('form').send(body);
        expect(res.status).toBe(403);
        expect(res.text).toContain('Your form has expired');
      }
      expect((await t.services.petitions.findPetition('fund-defence-fairly', 'en'))!.state).toBe('open');
      await agent.post(path).type('form').send({ state: 'closed', confirm: 'yes', _csrf: ownToken }).expect(303);
      expect((await t.services.petitions.findPetition('fund-defence-fairly', 'en'))!.state).toBe('closed');
      await agent.post(path).type('form').send({ state: 'open', _csrf: ownToken }).expect(303);
    });

    it('does not accept the login form’s double-submit token in place of the synchroniser token', async () => {
      const agent = t.agent();
      await login(agent, 'grace@example.org');
      const loginToken = csrfFrom((await t.agent().get('/admin/login').expect(200)).text);
      await agent
        .post('/admin/petitions/fund-defence-fairly/state')
        .type('form')
        .send({ state: 'closed', _csrf: loginToken })
        .expect(403);
    });

    it('refuses a console form without its token even from our own pages (no Fetch Metadata pass)', async () => {
      const agent = t.agent();
      await login(agent, 'grace@example.org');
      const res = await agent
        .post('/admin/petitions/fund-defence-fairly/state')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('Origin', 'http://localhost:3000')
        .type('form')
        .send({ state: 'closed' });
      expect(res.status).toBe(403);
      expect(res.text).toContain('Your form has expired');
      expect((await t.services.petitions.findPetition('fund-defence-fairly', 'en'))!.state).toBe('open');
    });
  });

  describe('the audit log', () => {
    it('records logins, failures and actions, and never a password', async () => {
      expect((await login(t.agent(), 'grace@example.org', 'not the password at all')).status).toBe(401);
      await createAccount(t.services, 'locked@example.org', 'viewer');
      for (let i = 0; i < 5; i++) await login(t.agent(), 'locked@example.org', `wrong-${i}`);
      const grace = t.agent();
      expect((await login(grace, 'grace@example.org')).status).toBe(303);
      const path = '/admin/petitions/fund-defence-fairly/state';
      for (const state of ['closed', 'open']) {
        await grace
          .post(path)
          .type('form')
          .send({ state, confirm: 'yes', _csrf: await consoleToken(grace) })
          .expect(303);
      }
      await grace
        .post('/admin/logout')
        .type('form')
        .send({ _csrf: await consoleToken(grace) })
        .expect(303);

      const entries = t.services.db.prepare('SELECT action, details FROM audit_log').all() as Array<{
        action: string;
        details: string;
      }>;
      const actions = new Set(entries.map((e) => e.action));
      for (const action of ['login', 'login.failed', 'account.locked', 'logout', 'petition.close', 'petition.open']) {
        expect(actions).toContain(action);
      }
      const everything = JSON.stringify(t.services.db.prepare('SELECT * FROM audit_log').all());
      expect(everything).not.toContain(password);
      expect(everything).not.toContain('not the password at all');

      const agent = t.agent();
      await login(agent, 'ada@example.org');
      const page = await agent.get('/admin/audit').expect(200);
      expect(page.text).toContain('petition.close');
      expect(page.text).toContain('grace@example.org');
    });
  });
});

describe('in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false, env: { NODE_ENV: 'production', TRUST_PROXY: '1', MAIL_CAPTURE: 'true' } });
    await createAccount(t.services, 'ada@example.org', 'admin');
  });
  afterAll(() => t.close());

  // A browser sends a Secure cookie back only over HTTPS; the proxy says whether the request was.
  async function loginOver(proto: 'https' | 'http') {
    const page = await request(t.app).get('/admin/login').set('X-Forwarded-Proto', proto).expect(200);
    expect(sessionCookie(page)).toBeUndefined();
    const formCookie = (page.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('__Host-'))!;
    expect(formCookie).toMatch(/; Secure/);
    return request(t.app)
      .post('/admin/login')
      .set('X-Forwarded-Proto', proto)
      .set('Cookie', cookieValue(formCookie))
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'ada@example.org', password });
  }

  it('marks the session cookie Secure, and sends none over plain HTTP', async () => {
    const https = await loginOver('https');
    expect(https.status).toBe(303);
    const cookie = sessionCookie(https)!;
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\/admin(;|$)/);

    expect(sessionCookie(await loginOver('http'))).toBeUndefined();
  });

  it('logs in over HTTPS with a Secure cookie', async () => {
    const res = await loginOver('https');
    expect(res.status).toBe(303);
    const cookie = sessionCookie(res)!;
    expect(cookie).toMatch(/; Secure/);
    await request(t.app).get('/admin').set('X-Forwarded-Proto', 'https').set('Cookie', cookieValue(cookie)).expect(200);
  });
});

describe('npm run admin:create', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterAll(() => t.close());

  const env = () => ({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_PATH: t.services.config.databasePath,
    DATA_DIR: t.dir,
    SECRET: 'a-test-secret-that-is-long-enough-000000',
  });
  const create = (args: string[], stdin: string) => {
    const child = run(path.join(root, 'node_modules', '.bin', 'tsx'), ['server/admin/cli.ts', ...args], {
      cwd: root,
      env: env(),
    });
    child.child.stdin!.end(stdin);
    return child;
  };

  it('reads the password from standard input when it is not a terminal, and the account can log in', async () => {
    const { stdout } = await create(['--email', 'cli@example.org', '--role', 'organiser'], `${password}\n`);
    expect(stdout).toContain('Created the organiser account cli@example.org');
    const res = await login(t.agent(), 'cli@example.org');
    expect(res.status).toBe(303);
  });

  it('refuses a password under 12 characters, and says so', async () => {
    await expect(create(['--email', 'short@example.org'], 'elevenchars\n')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('at least 12 characters') as unknown,
    });
    expect((await t.services.admin.accounts.list()).map((a) => a.email)).not.toContain('short@example.org');
  });
});

describe('failed logins from one client address (POST /admin/login)', () => {
  it('records 10 in 15 minutes; past that it answers 429, checks no password and writes nothing', async () => {
    let now = Date.now();
    // Behind one proxy, so that each test client can have an address of its own.
    const t = await createTestApp({ smtp: false, clock: () => now, env: { TRUST_PROXY: '1' } });
    try {
      await createAccount(t.services, 'ada@example.org', 'admin');
      const attacker = t.agent();
      // One form token, used again and again.
      const token = csrfFrom((await attacker.get('/admin/login').expect(200)).text);
      const attempt = (email: string, pass: string, ip = '203.0.113.7') =>
        attacker
          .post('/admin/login')
          .set('X-Forwarded-For', ip)
          .type('form')
          .send({ _csrf: token, email, password: pass });
      const written = () =>
        t.services.db.prepare('SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM sessions)').pluck();

      // Thirty at once, as a script would send them: none waits for another's password check.
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) => attempt(`nobody${i}@example.org`, 'a guess')),
      );
      const statuses = burst.map((r) => r.status).sort();
      expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(20).fill(429)]);
      const failures = t.services.db.prepare("SELECT count(*) FROM audit_log WHERE action = 'login.failed'").pluck();
      expect(failures.get()).toBe(10);
      const before = written().get();
      // Even the right password waits: nothing is checked, so nothing can be guessed.
      const refused = await attempt('ada@example.org', password);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('900');
      expect(refused.text).toContain('Too many logins have failed from your network. Wait 15 minutes and try again.');
      expect(refused.text).toContain('value="ada@example.org"');
      expect(written().get()).toBe(before);
      expect(
        t.services.db.prepare("SELECT failed_logins FROM organisers WHERE email = 'ada@example.org'").pluck().get(),
      ).toBe(0);

      // Another client logs in meanwhile; the first may again once its 15 minutes are over.
      expect((await login(t.agent().set('X-Forwarded-For', '198.51.100.1'), 'ada@example.org')).status).toBe(303);
      now += 15 * 60_000;
      expect((await attempt('ada@example.org', password)).status).toBe(303);
    } finally {
      await t.close();
    }
  });
});
