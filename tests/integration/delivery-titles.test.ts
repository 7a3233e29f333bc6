import { insertBatch } from '../helpers/batches';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { createTestApp, type TestApp } from '../helpers/testApp';

const petitions = ['fund-defence-fairly', 'halt-unlawful-arms-transfers', 'protect-civil-society'];
const titles = {
  en: [
    'NATO governments: fund defence fairly, not through austerity',
    'NATO governments: respect humanitarian law and stop risky arms transfers',
    'NATO governments: protect the freedom to speak, organise and protest',
  ],
  fr: [
    'Gouvernements de l&#x27;OTAN : financez la défense équitablement, sans austérité',
    'Gouvernements de l&#x27;OTAN : respectez le droit humanitaire et stoppez les transferts d&#x27;armes à risque',
    'Gouvernements de l&#x27;OTAN : protégez le droit de s&#x27;exprimer, de s&#x27;associer et de manifester',
  ],
};
const prefix = 'abcdef012345';

/** The pages that list deliveries of several petitions: each title in one query, not one per row. */
describe('deliveries across petitions (/verify, /delegations/:code)', () => {
  let t: TestApp;
  let statements: string[];
  let shown: number;

  /** Delivers the next petition's pack to Germany, its CSV's SHA-256 starting with the same prefix. */
  async function deliverNext() {
    const slug = petitions[shown]!;
    const [id] = await addValidatedSignaturesTo(t.services.store, slug, [{ name: 'Dörte', country: 'DE' }]);
    await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'DE',
      channel: 'post',
      signatureIds: [id!],
      createdAt: Date.UTC(2026, 10, 20 + shown),
      sentAt: Date.UTC(2026, 10, 20 + shown, 15),
      handedInAt: Date.UTC(2026, 10, 20 + shown),
      sha: `${prefix}${String(shown).padStart(52, '0')}`,
    });
    shown += 1;
  }

  /** The statements one GET runs, and its page. */
  async function get(path: string) {
    statements = [];
    const res = await t.agent().get(path).expect(200);
    return { text: res.text, statements: statements.length };
  }

  beforeAll(async () => {
    t = await createTestApp({ smtp: false, traceSql: (s) => statements?.push(s) });
    shown = 0;
  });
  afterAll(() => t.close());

  it('shows each petition’s title, in English and in French, with as many queries for three rows as for one', async () => {
    await deliverNext();
    const oneVerify = await get(`/verify/${prefix}`);
    const oneDelegation = await get('/delegations/de');
    expect(oneVerify.text).toContain(titles.en[0]);
    expect(oneDelegation.text).toContain(titles.en[0]);

    await deliverNext();
    await deliverNext();
    for (const lang of ['en', 'fr'] as const) {
      const verify = await get(`/verify/${prefix}?lang=${lang}`);
      const delegation = await get(`/delegations/de?lang=${lang}`);
      for (const title of titles[lang]) {
        expect(verify.text).toContain(title);
        expect(delegation.text).toContain(title);
      }
      expect(verify.statements).toBe(oneVerify.statements);
      expect(delegation.statements).toBe(oneDelegation.statements);
    }
    expect(statements.length).toBeGreaterThan(0); // the trace sees the queries
  });
});
