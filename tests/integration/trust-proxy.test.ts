import { sql } from 'kysely';
import { formBody, formFields } from '../helpers/forms';
import { aLetter, letterDemand } from '../helpers/letters';
import { aSigner, checkEmailLocation, createTestApp, type TestApp } from '../helpers/testApp';

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
      await agent.get(`/petitions/${slug}`).expect(200);
      // The client wrote the first entry; the proxy appended the address it saw (the rightmost).
      const res = await agent
        .post(`/petitions/${slug}/signatures`)
        .set('X-Forwarded-For', `10.9.${i}.1, 203.0.113.7`)
        .type('form')
        .send({ ...aSigner, email: `forwarded${i}@example.org` });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
    }
    // One bucket: past the limit of 5 a minute the other five are marked fraudulent.
    const states = await t.services.store.all(
      sql`SELECT state, count(*) AS n FROM signatures GROUP BY state ORDER BY state`,
    );
    expect(states).toEqual([
      { state: 'fraudulent', n: 5 },
      { state: 'pending', n: 5 },
    ]);
  });

  // A subscriber is given a whole /64: ten of its addresses are one person to the rate limits.
  const sameSubnet = Array.from({ length: 10 }, (_, i) => `2001:db8:1:2::${(i + 1).toString(16)}`);

  it('counts IPv6 signers by their /64, whichever of its addresses they use', async () => {
    const agent = t.agent();
    for (const [i, ip] of sameSubnet.entries()) {
      await agent.get(`/petitions/${slug}`).expect(200);
      await agent
        .post(`/petitions/${slug}/signatures`)
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ ...aSigner, email: `v6-${i}@example.org` })
        .expect(303);
    }
    // Another /64, and an IPv4 client written the IPv6 way, are buckets of their own.
    for (const [i, ip] of ['2001:db8:1:3::1', '::ffff:203.0.113.7'].entries()) {
      await agent.get(`/petitions/${slug}`).expect(200);
      await agent
        .post(`/petitions/${slug}/signatures`)
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ ...aSigner, email: `other-${i}@example.org` })
        .expect(303);
    }
    const states = await t.services.store.all(
      sql`SELECT state, count(*) AS n FROM signatures WHERE email LIKE 'v6-%' GROUP BY state ORDER BY state`,
    );
    expect(states).toEqual([
      { state: 'fraudulent', n: 5 },
      { state: 'pending', n: 5 },
    ]);
    const others = await t.services.store.all(sql`SELECT DISTINCT state FROM signatures WHERE email LIKE 'other-%'`);
    expect(others).toEqual([{ state: 'pending' }]);
  });

  it('counts IPv6 letter writers by their /64 too', async () => {
    const agent = t.agent();
    for (const [i, ip] of sameSubnet.entries()) {
      await agent.get(`/demands/${letterDemand}/letters/new`).expect(200);
      const fields = { ...aLetter, email: `v6-${i}@example.org` };
      const preview = await agent
        .post(`/demands/${letterDemand}/letters/preview`)
        .type('form')
        .send(fields)
        .expect(200);
      const send = `/demands/${letterDemand}/letters`;
      const res = await agent
        .post(send)
        .set('X-Forwarded-For', ip)
        .type('form')
        .send(formBody(formFields(preview.text, send)));
      expect(res.status).toBe(303);
    }
    // Flagged letters leave nothing behind: five written, five refused silently.
    expect(await t.services.store.first(sql`SELECT count(*) AS n FROM letters`)).toEqual({ n: 5 });
  });
});
