import { aSigner, createTestApp, csrfFrom, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

describe('behind a reverse proxy (TRUST_PROXY=1)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false, env: { TRUST_PROXY: '1' } });
  });
  afterEach(() => t.close());

  it('counts signers by the address the proxy saw, whatever they put in X-Forwarded-For themselves', async () => {
    const agent = t.agent();
    for (let i = 0; i < 10; i++) {
      const page = await agent.get(`/petitions/${slug}`).expect(200);
      // The client wrote the first entry; the proxy appended the address it saw (the rightmost).
      const res = await agent
        .post(`/petitions/${slug}/signatures`)
        .set('X-Forwarded-For', `10.9.${i}.1, 203.0.113.7`)
        .type('form')
        .send({ ...aSigner, email: `forwarded${i}@example.org`, _csrf: csrfFrom(page.text) });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/petitions/${slug}/check-email`);
    }
    // One bucket: past the limit of 5 a minute the other five are marked fraudulent.
    const states = t.services.db.prepare('SELECT state, count(*) AS n FROM signatures GROUP BY state ORDER BY state');
    expect(states.all()).toEqual([
      { state: 'fraudulent', n: 5 },
      { state: 'pending', n: 5 },
    ]);
  });
});
