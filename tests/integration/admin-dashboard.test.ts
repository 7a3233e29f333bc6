import { sql } from 'kysely';
import type { Person } from '../../server/console/signatures/erasure';
import { consoleToken, createAccount, login, seedSignatures } from '../helpers/admin';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const dayMs = 24 * 60 * 60 * 1000;

describe('the dashboard', () => {
  let t: TestApp;
  let agent: ReturnType<TestApp['agent']>;
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    const now = Date.now();
    await seedSignatures(t.services, [
      { petition: slug, email: 'a@example.org', country: 'FR', createdAt: now },
      { petition: slug, email: 'b@example.org', country: 'FR', createdAt: now - dayMs },
      { petition: slug, email: 'c@example.org', country: 'DE', createdAt: now - 40 * dayMs },
      { petition: slug, email: 'd@example.org', state: 'pending' },
      { petition: slug, email: 'e@example.org', state: 'fraudulent' },
      { petition: slug, email: 'f@example.org', state: 'invalidated' },
    ]);
    await createAccount(t.services, 'viewer@example.org', 'viewer');
    agent = t.agent();
    await login(agent, 'viewer@example.org');
  });
  afterAll(() => t.close());

  it('shows each petition’s counts by state, a chart of the last 30 or 90 days, and counts by country', async () => {
    const page = await agent.get(`/admin?petition=${slug}`).expect(200);
    const stats = /<dl class="stats">([\s\S]*?)<\/dl>/.exec(page.text)![1]!.replace(/\s+/g, ' ');
    expect(stats).toContain('<dt>Validated</dt><dd>3</dd>');
    expect(stats).toContain('<dt>Pending</dt><dd>1</dd>');
    expect(stats).toContain('<dt>Fraudulent</dt><dd>1</dd>');
    expect(stats).toContain('<dt>Invalidated</dt><dd>1</dd>');
    expect(page.text).toContain('<svg xmlns="http://www.w3.org/2000/svg" role="img"');
    expect(page.text.match(/<rect /g)).toHaveLength(30);
    expect(page.text).toContain('Validated over the last 30 days: 2 (days in UTC).');
    expect(page.text).not.toMatch(/style=/); // the CSP allows no inline styles
    expect(page.text).toMatch(/<th scope="row">France<\/th><td>2 <progress max="2" value="2"/);

    const longer = await agent.get(`/admin?petition=${slug}&days=90`).expect(200);
    expect(longer.text.match(/<rect /g)).toHaveLength(90);
    expect(longer.text).toContain('Validated over the last 90 days: 3 (days in UTC).');
  });

  it('renders the sections other features add, for the petition shown', async () => {
    t.services.admin.dashboard.addSection({
      id: 'letters',
      partial: 'admin/notice',
      load: (petition) => (petition.slug === slug ? { noticeKey: 'admin.notices.petitionSaved' } : undefined),
    });
    const shown = await agent.get(`/admin?petition=${slug}`).expect(200);
    expect(shown.text).toContain('The petition has been saved.');
    const other = await agent.get('/admin?petition=protect-civil-society').expect(200);
    expect(other.text).not.toContain('The petition has been saved.');
  });
});

describe('erasers added by other features', () => {
  it('run inside the erasure, before the signatures they may refer to are deleted', async () => {
    const t = await createTestApp({ smtp: false });
    try {
      await seedSignatures(t.services, [{ petition: slug, name: 'Pat Example', email: 'pat@example.org' }]);
      const seen: Array<{ person: Person; rows: number }> = [];
      t.services.admin.erasure.addEraser({
        table: 'letters',
        async erase(person, tx) {
          // Read in the erasure's transaction: the signatures are still there.
          const { rows } = (await tx.first(
            tx.qb
              .selectFrom('signatures')
              .select(sql<number>`count(*)`.as('rows'))
              .where('id', 'in', person.signatureIds),
          ))!;
          seen.push({ person, rows });
          return 7;
        },
      });
      await createAccount(t.services, 'org@example.org', 'organiser');
      const agent = t.agent();
      await login(agent, 'org@example.org');
      await agent
        .post('/admin/signatures/erase')
        .type('form')
        .send({ _csrf: await consoleToken(agent), email: 'PAT@example.org' })
        .expect(303);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.rows).toBe(1);
      expect(seen[0]!.person).toMatchObject({ email: 'pat@example.org', names: ['Pat Example'] });
      const entry = await t.services.store.first(
        t.services.store.qb.selectFrom('audit_log').select('details').where('action', '=', 'person.erase'),
      );
      expect(JSON.parse(entry!.details).rows).toMatchObject({ letters: 7, signatures: 1 });
    } finally {
      await t.close();
    }
  });
});
