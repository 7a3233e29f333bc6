import type TestAgent from 'supertest/lib/agent';
import { createAccount, login, seedSignatures } from '../helpers/admin';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

describe('GET /admin/signatures: how many a search found', () => {
  let t: TestApp;
  let viewer: TestAgent;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    await createAccount(t.services, 'viewer@example.org', 'viewer');
    viewer = t.agent();
    await login(viewer, 'viewer@example.org');
  });
  afterEach(() => t.close());

  const seed = (name: string, n: number) =>
    seedSignatures(
      t.services,
      Array.from({ length: n }, (_, i) => ({
        petition: slug,
        name: `${name} ${i}`,
        email: `${name.toLowerCase()}${i}@example.org`,
        createdAt: Date.UTC(2026, 0, 1) + i * 1000,
      })),
    );
  const rows = (html: string) => [...html.matchAll(/<tr>\s*<th scope="row">([^<]*)<\/th>/g)].map((m) => m[1]);

  it('shows the newest 100 and says how many there are in all', async () => {
    await seed('Many', 2345);
    await seed('Other', 3);
    const res = await viewer.get('/admin/signatures?q=many').expect(200);
    expect(res.text).toContain('<h2>Showing the newest 100 of 2,345 signatures found</h2>');
    expect(res.text).not.toContain('100 signatures found');
    const names = rows(res.text);
    expect(names).toHaveLength(100);
    expect(names[0]).toBe('Many 2344');
    expect(names[99]).toBe('Many 2245');

    const fr = await viewer.get('/admin/signatures?q=many&lang=fr').expect(200);
    expect(fr.text).toMatch(/<h2>Affichage des 100 plus récentes sur 2\s345 signatures trouvées<\/h2>/);
  });

  it('says the number found when all of them are shown', async () => {
    await seed('Exactly', 100);
    await seed('Few', 1);
    expect((await viewer.get('/admin/signatures?q=exactly').expect(200)).text).toContain(
      '<h2>100 signatures found</h2>',
    );
    expect((await viewer.get('/admin/signatures?q=few').expect(200)).text).toContain('<h2>1 signature found</h2>');
    expect((await viewer.get('/admin/signatures?q=few0@example.org').expect(200)).text).toContain(
      '<h2>1 signature found</h2>',
    );
  });
});
