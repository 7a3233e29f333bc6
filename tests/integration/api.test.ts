import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const slug = 'fund-defence-fairly';

describe('the public read API, /api/v1', () => {
  let t: TestApp;
  let validate: (schema: string, body: unknown) => string[];
  beforeAll(async () => {
    t = await createTestApp({ smtp: false });
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [
        { name: 'Anna Schmidt', country: 'DE' },
        { name: 'Ben Weber', country: 'DE' },
        { name: 'Élodie Martin', country: 'FR' },
      ],
      Date.UTC(2026, 10, 29, 10),
    );
    await addValidatedSignaturesTo(
      t.services.store,
      slug,
      [{ name: 'Νίκος Παππάς', country: 'GR' }],
      Date.UTC(2026, 10, 30, 9),
    );

    // The document the API publishes, compiled by a JSON Schema 2020-12 validator: real answers are
    // checked against what the document says, not against the code that produced both.
    const doc = (await t.agent().get('/api/v1/openapi.json').expect(200)).body as {
      openapi: string;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addVocabulary(['components']); // the document's own place for its schemas, as OpenAPI has it
    ajv.addSchema({ $id: 'https://api.example/doc', components: doc.components });
    validate = (schema, body) => {
      const check = ajv.getSchema(`https://api.example/doc#/components/schemas/${schema}`)!;
      return check(body) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    };
  });
  afterAll(async () => t.close());

  it('describes the campaign, and the answer matches the document', async () => {
    const res = await t.agent().get('/api/v1/campaign').expect(200);
    expect(validate('Campaign', res.body)).toEqual([]);
    expect(res.body.source.author).toEqual(expect.any(String));
    const demand = (res.body.demands as Array<{ petition: string | null; count: number }>).find(
      (d) => d.petition === slug,
    );
    expect(demand?.count).toBe(4);
  });

  it('lists the petitions with their counts', async () => {
    const res = await t.agent().get('/api/v1/petitions?lang=fr').expect(200);
    expect(validate('PetitionList', res.body)).toEqual([]);
    const petition = (res.body.petitions as Array<{ slug: string; count: number; api: string }>).find(
      (p) => p.slug === slug,
    );
    expect(petition).toMatchObject({ count: 4, api: `http://localhost:3000/api/v1/petitions/${slug}` });
  });

  it('gives one petition with counts by country and by day, and no personal data', async () => {
    const res = await t.agent().get(`/api/v1/petitions/${slug}`).expect(200);
    expect(validate('Petition', res.body)).toEqual([]);
    expect(res.body.countsByCountry).toEqual([
      { country: 'DE', count: 2 },
      { country: 'FR', count: 1 },
      { country: 'GR', count: 1 },
    ]);
    expect(res.body.validatedPerDay).toEqual([
      { date: '2026-11-29', count: 3 },
      { date: '2026-11-30', count: 1 },
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/Anna|Schmidt|Νίκος|example\.org/);
  });

  it('gives the delegations’ public responses, as the document describes them', async () => {
    const res0 = await t.agent().get(`/api/v1/petitions/${slug}`).expect(200);
    expect(res0.body.responses).toEqual([]);
    const target = (await t.services.targets.forCountry('DE')).find((x) => x.isDefault)!;
    const answer = (over: Record<string, unknown>) =>
      t.services.responses.save(
        undefined,
        {
          target: String(target.id),
          about: `petition:${slug}`,
          receivedOn: '2026-11-30',
          channel: 'letter',
          body: 'We will raise it.\n\nWith regards',
          link: 'https://example.org/answer',
          isPublic: true,
          ...over,
        },
        null,
        'en',
      );
    await answer({});
    await answer({
      about: 'demand:progressive-taxation',
      receivedOn: '2026-11-02',
      channel: 'public_statement',
      link: '',
    });
    await answer({ body: 'Not for publication', isPublic: false });
    const res = await t.agent().get(`/api/v1/petitions/${slug}`).expect(200);
    expect(validate('Petition', res.body)).toEqual([]);
    expect(res.body.responses).toEqual([
      {
        country: 'DE',
        delegation: target.name,
        date: '2026-11-30',
        channel: 'letter',
        text: 'We will raise it.\n\nWith regards',
        link: 'https://example.org/answer',
      },
      {
        country: 'DE',
        delegation: target.name,
        date: '2026-11-02',
        channel: 'public_statement',
        text: 'We will raise it.\n\nWith regards',
        link: null,
      },
    ]);
    // The document names the field: an answer with a channel it does not list fails the check.
    expect(
      validate('Petition', { ...res.body, responses: [{ ...res.body.responses[0], channel: 'fax' }] }),
    ).not.toEqual([]);
  });

  it('gives the closing date while open, and the closing time once closed, as the document says', async () => {
    const schemas = (await t.agent().get('/api/v1/openapi.json').expect(200)).body.components.schemas;
    for (const name of ['closesAt', 'closedAt']) {
      expect(schemas.PetitionSummary.properties[name].anyOf).toEqual([
        expect.objectContaining({ type: 'string', format: 'date-time' }),
        { type: 'null' },
      ]);
      expect(schemas.PetitionSummary.required).toContain(name);
    }
    const other = 'protect-civil-society';
    const closesAt = Math.floor(Date.now() / 60_000) * 60_000 + 10 * 24 * 60 * 60_000;
    await t.services.petitions.setClosesAt(other, closesAt);
    const dated = await t.agent().get(`/api/v1/petitions/${other}`).expect(200);
    expect(validate('Petition', dated.body)).toEqual([]);
    expect(dated.body).toMatchObject({ state: 'open', closesAt: new Date(closesAt).toISOString(), closedAt: null });

    const before = Date.now();
    await t.services.petitions.setState(other, 'closed');
    const closed = await t.agent().get(`/api/v1/petitions/${other}`).expect(200);
    expect(validate('Petition', closed.body)).toEqual([]);
    expect(closed.body).toMatchObject({ state: 'closed', closesAt: null });
    expect(Date.parse(closed.body.closedAt)).toBeGreaterThanOrEqual(before - 1);
    const list = await t.agent().get('/api/v1/petitions').expect(200);
    expect(validate('PetitionList', list.body)).toEqual([]);
    const listed = list.body.petitions as Array<{ slug: string; state: string; closesAt: string | null }>;
    expect(listed.find((p) => p.slug === other)).toMatchObject({ state: 'closed', closesAt: null });
    expect(listed.find((p) => p.slug === slug)).toMatchObject({ state: 'open', closesAt: null, closedAt: null });
    await t.services.petitions.setState(other, 'open');
  });

  it('is open to other origins and cacheable, with 304 for a matching ETag and no cookie', async () => {
    const res = await t.agent().get(`/api/v1/petitions/${slug}`).set('Origin', 'https://news.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=20, stale-if-error=50');
    expect(res.headers['set-cookie']).toBeUndefined();
    await t.agent().get(`/api/v1/petitions/${slug}`).set('If-None-Match', res.headers.etag!).expect(304);
  });

  it('answers an unknown petition or path with a 404 the document describes', async () => {
    const res = await t.agent().get('/api/v1/petitions/no-such-thing').expect(404);
    expect(validate('Error', res.body)).toEqual([]);
    expect((await t.agent().get('/api/v1/nothing-here').expect(404)).body.error).toMatch(/openapi\.json/);
  });

  it('a field the document does not name fails the check (the check can fail)', () => {
    expect(validate('PetitionList', { petitions: [], extra: 1 })).not.toEqual([]);
  });
});
