import { sql } from 'kysely';
import { insertBatch } from '../helpers/batches';
import { unescapeHtml } from '../helpers/letters';
import { baseUrl, confirm, confirmPath, createTestApp, sign, type TestApp } from '../helpers/testApp';

const slug = 'protect-civil-society';
const germany = 'Permanent Delegation of the Federal Republic of Germany to NATO';

describe('GET /signatures/:token/confirm once confirmed (the signer’s receipt)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  /** Signs for `country` and confirms; answers the link from the mail and the signature's id. */
  async function signAndConfirm(email: string, country: string): Promise<{ link: string; id: number }> {
    const agent = t.agent();
    await sign(agent, slug, { name: 'Dörte Müller', email, country });
    const mail = (await t.smtp!.waitFor(1)).find((m) => JSON.stringify(m.to).includes(email))!;
    const link = confirmPath(mail.text);
    await confirm(agent, link).then((res) => expect(res.status).toBe(303));
    const row = await t.services.store.first(sql<{ id: number }>`SELECT id FROM signatures WHERE email = ${email}`);
    return { link, id: row!.id };
  }

  const standing = (html: string) =>
    /<p class="standing">([\s\S]*?)<\/p>/
      .exec(html)?.[1]
      ?.replace(/&#x27;/g, "'")
      .replace(/\s+/g, ' ')
      .trim();

  it('says the signature waits for the next delivery to the delegation, then when and how it was delivered by post', async () => {
    const { link, id } = await signAndConfirm('doerte@example.org', 'DE');
    const waiting = await t.agent().get(link).expect(200);
    expect(waiting.headers['cache-control']).toBe('no-store');
    expect(waiting.headers['referrer-policy']).toBe('same-origin');
    expect(waiting.text).toContain('Your signature is confirmed');
    expect(standing(waiting.text)).toBe(`Waiting for the next delivery to ${germany}.`);

    // Planned into a pack that is not handed in yet: still waiting.
    const pack = await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'DE',
      channel: 'post',
      state: 'queued',
      signatureIds: [id],
      sentAt: null,
    });
    expect(standing((await t.agent().get(link).expect(200)).text)).toBe(`Waiting for the next delivery to ${germany}.`);

    await t.services.store.run(
      sql`UPDATE batches SET state = 'sent', sent_at = ${Date.UTC(2026, 10, 30, 16)},
          handed_in_at = ${Date.UTC(2026, 10, 30)} WHERE id = ${pack.id}`,
    );
    const delivered = await t.agent().get(link).expect(200);
    expect(standing(delivered.text)).toBe(
      `Delivered to ${germany} on 30 November 2026 by post or hand-in, in pack ${pack.id}.`,
    );
    const french = await t.agent().get(`${link}?lang=fr`).expect(200);
    expect(standing(french.text)).toBe(
      `Remise à ${germany} le 30 novembre 2026 par courrier ou en main propre, dans le dossier n° ${pack.id}.`,
    );
  });

  it('says when it was delivered by email', async () => {
    const { link, id } = await signAndConfirm('jan@example.org', 'PL');
    await insertBatch(t.services.store, {
      petitionSlug: slug,
      country: 'PL',
      channel: 'email',
      signatureIds: [id],
      sentAt: Date.UTC(2026, 9, 1, 9),
    });
    expect(standing((await t.agent().get(link).expect(200)).text)).toBe(
      'Delivered to Permanent Delegation of the Republic of Poland to NATO on 1 October 2026 by email.',
    );
  });

  it('says nothing about a delegation for a signer from a country that has none', async () => {
    const { link } = await signAndConfirm('ada@example.org', 'CH');
    const res = await t.agent().get(link).expect(200);
    expect(res.text).toContain('Your signature is confirmed');
    expect(standing(res.text)).toBeUndefined();
  });

  describe('what to do next, as on the thanks page', () => {
    /** The letter link's address, or undefined when the page has none. */
    const letterHref = (html: string) => {
      const href = /<a class="button" href="([^"]+)" id="write-letter">/.exec(html)?.[1];
      return href === undefined ? undefined : unescapeHtml(href);
    };

    it('offers the share buttons, each carrying its own source code', async () => {
      const { link } = await signAndConfirm('doerte@example.org', 'DE');
      const html = unescapeHtml((await t.agent().get(link).expect(200)).text);
      const at = (channel: string) => encodeURIComponent(`${baseUrl}/petitions/${slug}?source=share-${channel}`);
      expect(html).toContain('Ask others to sign too');
      expect(html).toContain(`&url=${at('x')}"`);
      expect(html).toContain(`href="https://www.facebook.com/sharer/sharer.php?u=${at('facebook')}"`);
      expect(html).toMatch(new RegExp(`href="https://wa.me/\\?text=[^"]*${at('whatsapp').replace(/[.?%]/g, '\\$&')}"`));
      expect(html).toMatch(/href="mailto:\?subject=[^"]*share-email"/);
      expect(html).toContain(`value="${baseUrl}/petitions/${slug}?source=share-copy"`);
    });

    it('links to the letter form with the signer’s country, and to the other petitions, in English and French', async () => {
      const { link } = await signAndConfirm('doerte@example.org', 'DE');
      const res = await t.agent().get(link).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toContain('delegation to NATO (Germany)');
      expect(letterHref(res.text)).toBe('/demands/civic-freedoms/letters/new?country=DE');
      expect(res.text).not.toContain('doerte');
      const list = /<ul class="other-petitions">([\s\S]*?)<\/ul>/.exec(res.text)![1]!;
      const linked = [...list.matchAll(/href="\/petitions\/([a-z-]+)"/g)].map((m) => m[1]);
      expect(linked).toHaveLength(4);
      expect(linked).not.toContain(slug);
      expect(linked).toContain('fund-defence-fairly');

      const fr = unescapeHtml((await t.agent().get(`${link}?lang=fr`).expect(200)).text);
      expect(fr).toContain('<html lang="fr">');
      expect(fr).toContain('Écrivez maintenant à votre délégation');
      expect(fr).toContain('(Allemagne)');
      expect(fr).toContain('Les autres pétitions de la campagne');
      expect(fr).toContain('source%3Dshare-x');
      expect(letterHref(fr)).toBe('/demands/civic-freedoms/letters/new?country=DE');
    });

    it('offers a blank letter form to a signer from a country outside NATO', async () => {
      const { link } = await signAndConfirm('ada@example.org', 'CH');
      const res = await t.agent().get(link).expect(200);
      expect(letterHref(res.text)).toBe('/demands/civic-freedoms/letters/new');
      expect(res.text).not.toContain('delegation to NATO (');
      expect(res.text).toContain('source%3Dshare-whatsapp');
    });
  });
});
