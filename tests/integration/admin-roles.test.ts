import type TestAgent from 'supertest/lib/agent';
import { adminRoutes } from '../../server/admin/adminRoutes';
import type { Role } from '../../server/admin/roles';
import { consoleToken, createAccount, login } from '../helpers/admin';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

interface RouteCase {
  method: 'GET' | 'POST';
  /** As registered on the router, to check that the table lists every route. */
  pattern: string;
  path: string;
  role: Role;
  body?: Record<string, string>;
}

/** Every console route, and the least role that may use it. */
const routes: RouteCase[] = [
  { method: 'GET', pattern: '/', path: '/admin', role: 'viewer' },
  { method: 'GET', pattern: '/petitions', path: '/admin/petitions', role: 'viewer' },
  { method: 'GET', pattern: '/petitions/new', path: '/admin/petitions/new', role: 'organiser' },
  { method: 'POST', pattern: '/petitions', path: '/admin/petitions', role: 'organiser' },
  {
    method: 'GET',
    pattern: '/petitions/:slug/edit',
    path: '/admin/petitions/fund-defence-fairly/edit',
    role: 'organiser',
  },
  { method: 'POST', pattern: '/petitions/:slug', path: '/admin/petitions/fund-defence-fairly', role: 'organiser' },
  {
    method: 'GET',
    pattern: '/petitions/:slug/close',
    path: '/admin/petitions/fund-defence-fairly/close',
    role: 'organiser',
  },
  {
    method: 'GET',
    pattern: '/petitions/:slug/embed',
    path: '/admin/petitions/fund-defence-fairly/embed',
    role: 'viewer',
  },
  {
    method: 'POST',
    pattern: '/petitions/:slug/state',
    path: '/admin/petitions/fund-defence-fairly/state',
    role: 'organiser',
    body: { state: 'open' },
  },
  {
    method: 'GET',
    pattern: '/demands/:slug/edit',
    path: '/admin/demands/progressive-taxation/edit',
    role: 'organiser',
  },
  { method: 'POST', pattern: '/demands/:slug', path: '/admin/demands/progressive-taxation', role: 'organiser' },
  { method: 'GET', pattern: '/targets', path: '/admin/targets', role: 'viewer' },
  { method: 'GET', pattern: '/targets.csv', path: '/admin/targets.csv', role: 'viewer' },
  { method: 'POST', pattern: '/targets/import', path: '/admin/targets/import', role: 'organiser' },
  { method: 'GET', pattern: '/targets/new', path: '/admin/targets/new', role: 'organiser' },
  { method: 'POST', pattern: '/targets', path: '/admin/targets', role: 'organiser' },
  { method: 'GET', pattern: '/targets/:id/edit', path: '/admin/targets/1/edit', role: 'organiser' },
  { method: 'POST', pattern: '/targets/:id', path: '/admin/targets/1', role: 'organiser' },
  { method: 'GET', pattern: '/signatures', path: '/admin/signatures?q=someone', role: 'viewer' },
  { method: 'GET', pattern: '/signatures/invalidate', path: '/admin/signatures/invalidate', role: 'organiser' },
  { method: 'POST', pattern: '/signatures/invalidate', path: '/admin/signatures/invalidate', role: 'organiser' },
  { method: 'GET', pattern: '/signatures/erase', path: '/admin/signatures/erase', role: 'organiser' },
  { method: 'POST', pattern: '/signatures/erase', path: '/admin/signatures/erase', role: 'organiser' },
  { method: 'POST', pattern: '/signatures/retention', path: '/admin/signatures/retention', role: 'organiser' },
  { method: 'POST', pattern: '/delivery/resume', path: '/admin/delivery/resume', role: 'organiser' },
  { method: 'GET', pattern: '/letters/held', path: '/admin/letters/held', role: 'viewer' },
  { method: 'POST', pattern: '/letters/:id/release', path: '/admin/letters/1/release', role: 'organiser' },
  { method: 'POST', pattern: '/letters/:id/drop', path: '/admin/letters/1/drop', role: 'organiser' },
  { method: 'GET', pattern: '/updates', path: '/admin/updates', role: 'viewer' },
  { method: 'GET', pattern: '/updates/:slug/new', path: '/admin/updates/fund-defence-fairly/new', role: 'organiser' },
  // Empty forms: an allowed role gets the form back with its messages (400).
  {
    method: 'POST',
    pattern: '/updates/:slug/preview',
    path: '/admin/updates/fund-defence-fairly/preview',
    role: 'organiser',
  },
  {
    method: 'POST',
    pattern: '/updates/:slug/test',
    path: '/admin/updates/fund-defence-fairly/test',
    role: 'organiser',
  },
  {
    method: 'POST',
    pattern: '/updates/:slug/send',
    path: '/admin/updates/fund-defence-fairly/send',
    role: 'organiser',
  },
  { method: 'GET', pattern: '/updates/:slug/:id', path: '/admin/updates/fund-defence-fairly/UPDATE', role: 'viewer' },
  { method: 'GET', pattern: '/responses', path: '/admin/responses', role: 'viewer' },
  { method: 'GET', pattern: '/responses/new', path: '/admin/responses/new', role: 'organiser' },
  // An empty form: an allowed role gets it back with its messages (400).
  { method: 'POST', pattern: '/responses', path: '/admin/responses', role: 'organiser' },
  { method: 'GET', pattern: '/responses/:id/edit', path: '/admin/responses/RESPONSE/edit', role: 'organiser' },
  { method: 'POST', pattern: '/responses/:id', path: '/admin/responses/RESPONSE', role: 'organiser' },
  {
    method: 'POST',
    pattern: '/responses/:id/delete',
    path: '/admin/responses/RESPONSE/delete',
    role: 'organiser',
  },
  // Everyone sees which packs are due; their downloads carry signers' names (organisers, as exports).
  { method: 'GET', pattern: '/packs', path: '/admin/packs', role: 'viewer' },
  { method: 'GET', pattern: '/packs/:id/csv', path: '/admin/packs/1/csv', role: 'organiser' },
  { method: 'GET', pattern: '/packs/:id/pdf', path: '/admin/packs/1/pdf', role: 'organiser' },
  { method: 'POST', pattern: '/packs/:id/record', path: '/admin/packs/1/record', role: 'organiser' },
  { method: 'POST', pattern: '/packs/:id/undo', path: '/admin/packs/1/undo', role: 'organiser' },
  // Exports carry personal data in bulk: organisers only.
  { method: 'GET', pattern: '/exports', path: '/admin/exports', role: 'organiser' },
  {
    method: 'GET',
    pattern: '/exports/signatures.csv',
    path: '/admin/exports/signatures.csv?petition=fund-defence-fairly',
    role: 'organiser',
  },
  { method: 'GET', pattern: '/audit', path: '/admin/audit', role: 'admin' },
  { method: 'GET', pattern: '/accounts', path: '/admin/accounts', role: 'admin' },
  { method: 'POST', pattern: '/accounts', path: '/admin/accounts', role: 'admin' },
  { method: 'POST', pattern: '/accounts/:id', path: '/admin/accounts/ACCOUNT', role: 'admin' },
];
// Open to everyone (login) or to every logged-in role (logout): checked on their own below.
const unrestricted = ['GET /login', 'POST /login', 'POST /logout'];

const ranks: Role[] = ['viewer', 'organiser', 'admin'];

describe('who may use which console route', () => {
  let t: TestApp;
  const agents = {} as Record<Role, TestAgent>;
  const tokens = {} as Record<Role, string>;
  let spareAccount: number;
  let update: number;
  let response: number;

  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    for (const role of ranks) {
      await createAccount(t.services, `${role}@example.org`, role);
      agents[role] = t.agent();
      expect((await login(agents[role], `${role}@example.org`)).status).toBe(303);
      tokens[role] = await consoleToken(agents[role]);
    }
    spareAccount = await createAccount(t.services, 'spare@example.org', 'viewer');
    const petition = await t.services.petitions.findPetition('fund-defence-fairly', 'en');
    const draft = {
      petitionId: petition!.id,
      subjectEn: 'News',
      bodyEn: 'Hi',
      subjectFr: '',
      bodyFr: '',
      countries: [],
    };
    update = (await t.services.updates.send(draft, t.services.updates.newKey(), null)).id;
    const target = (await t.services.targets.forCountry('DE'))[0]!;
    const answer = {
      target: String(target.id),
      about: 'petition:fund-defence-fairly',
      receivedOn: '2026-01-15',
      channel: 'email',
      body: 'Noted.',
      link: '',
      isPublic: true,
    };
    const saved = await t.services.responses.save(undefined, answer, null, 'en');
    if (!saved.ok) throw new Error('could not record a response');
    response = saved.id;
    // Pack 1: a German signer, whose delegation has no email, planned into a hand-in pack.
    await addValidatedSignaturesTo(t.services.store, 'fund-defence-fairly', [{ name: 'Gerda', country: 'DE' }]);
    await t.services.delivery.plan(true);
  });
  afterAll(() => t.close());

  const send = (agent: TestAgent, route: RouteCase, token?: string) => {
    const path = route.path
      .replace('ACCOUNT', String(spareAccount))
      .replace('UPDATE', String(update))
      .replace('RESPONSE', String(response));
    if (route.method === 'GET') return agent.get(path);
    return agent
      .post(path)
      .type('form')
      .send({ ...route.body, ...(token ? { _csrf: token } : {}) });
  };

  it('lists every route the console registers', () => {
    const registered: string[] = [];
    const walk = (
      stack: Array<{
        route?: { path: string; methods: object; stack: Array<{ name: string }> };
        handle?: { stack?: unknown[] };
      }>,
    ) => {
      for (const layer of stack) {
        // A body parser mounted on a form's paths (consoleFormParsers) passes every request on: not a route.
        const parsesOnly = layer.route?.stack.every((h) => h.name === 'urlencodedParser');
        if (layer.route && !parsesOnly) {
          for (const m of Object.keys(layer.route.methods)) registered.push(`${m.toUpperCase()} ${layer.route.path}`);
        } else if (layer.handle?.stack) walk(layer.handle.stack as typeof stack);
      }
    };
    const render = Object.assign(() => undefined, { html: () => '' });
    const router = adminRoutes({ ...t.services, render }) as unknown as { stack: [] };
    walk(router.stack);
    const listed = [...routes.map((r) => `${r.method} ${r.pattern}`), ...unrestricted];
    expect(registered.sort()).toEqual(listed.sort());
  });

  describe.each(routes)('$method $path (least role: $role)', (route) => {
    it('refuses anonymous visitors: to the login page on GET, 403 otherwise', async () => {
      const anonymous = t.agent();
      const login = await anonymous.get('/admin/login').expect(200); // a CSRF token, not logged in
      const token = /name="_csrf" value="([^"]+)"/.exec(login.text)![1]!;
      const res = await send(anonymous, route, token);
      expect(res.headers['cache-control']).toBe('no-store');
      if (route.method === 'GET') {
        expect(res.status).toBe(303);
        expect(res.headers.location).toMatch(/^\/admin\/login\?next=/);
      } else {
        expect(res.status).toBe(403);
      }
    });

    it.each(ranks)('as %s', async (role) => {
      const res = await send(agents[role], route, tokens[role]);
      expect(res.headers['cache-control']).toBe('no-store');
      if (ranks.indexOf(role) < ranks.indexOf(route.role)) {
        expect(res.status).toBe(403);
        expect(res.text).toContain('You cannot do this');
      } else {
        expect([200, 303, 400]).toContain(res.status);
        expect(res.headers.location ?? '').not.toMatch(/^\/admin\/login/);
      }
    });
  });

  it.each(ranks)('lets a %s log out', async (role) => {
    const agent = t.agent();
    expect((await login(agent, `${role}@example.org`)).status).toBe(303);
    const res = await agent
      .post('/admin/logout')
      .type('form')
      .send({ _csrf: await consoleToken(agent) });
    expect(res.status).toBe(303);
    await agent.get('/admin').expect(303);
  });

  it('shows viewers no edit links, and organisers no admin pages in the menu', async () => {
    const viewer = (await agents.viewer.get('/admin/petitions').expect(200)).text;
    expect(viewer).not.toContain('/admin/petitions/new');
    expect(viewer).not.toContain('/admin/accounts');
    const organiser = (await agents.organiser.get('/admin/petitions').expect(200)).text;
    expect(organiser).toContain('/admin/petitions/new');
    expect(organiser).not.toContain('/admin/accounts');
    const admin = (await agents.admin.get('/admin/petitions').expect(200)).text;
    expect(admin).toContain('/admin/accounts');
  });

  it('takes a role change or a disabled account into effect at once', async () => {
    const id = await createAccount(t.services, 'demoted@example.org', 'organiser');
    const agent = t.agent();
    expect((await login(agent, 'demoted@example.org')).status).toBe(303);
    await agent.get('/admin/petitions/new').expect(200);
    await agents.admin
      .post(`/admin/accounts/${id}`)
      .type('form')
      .send({ _csrf: tokens.admin, role: 'viewer' })
      .expect(303);
    await agent.get('/admin/petitions/new').expect(403);
    await agents.admin
      .post(`/admin/accounts/${id}`)
      .type('form')
      .send({ _csrf: tokens.admin, role: 'viewer', disabled: 'on' })
      .expect(303);
    await agent.get('/admin').expect(303);
    expect((await login(t.agent(), 'demoted@example.org')).status).toBe(401);
  });
});
