import { unescapeHtml } from '../helpers/letters';
import {
  aSigner,
  baseUrl,
  checkEmailLocation,
  confirm,
  confirmPath,
  createTestApp,
  sign,
  type TestApp,
} from '../helpers/testApp';

const slug = 'fund-defence-fairly';
const demand = 'progressive-taxation';
const others = ['halt-unlawful-arms-transfers', 'stay-in-mine-and-cluster-bans', 'ban-weapons-that-target-people'];

describe('after signing: no dead ends', () => {
  let t: TestApp;
  let now = Date.UTC(2026, 10, 30, 12);
  beforeAll(async () => {
    t = await createTestApp({ clock: () => now });
  });
  afterAll(() => t.close());

  /** Signs, confirms from the mail, and answers where the confirmation leads. */
  async function signAndConfirm(fields = aSigner): Promise<string> {
    const agent = t.agent();
    const before = t.smtp!.mails.length;
    await sign(agent, slug, fields);
    const [mail] = (await t.smtp!.waitFor(before + 1)).slice(before);
    const confirmed = await confirm(agent, confirmPath(mail!.text));
    expect(confirmed.status).toBe(303);
    return confirmed.headers.location!;
  }

  describe('GET /petitions/:slug/thanks', () => {
    let thanksPath: string;
    beforeAll(async () => {
      thanksPath = await signAndConfirm();
    });

    it('is reached with the signer’s country as a two-letter code, and kept by nobody', async () => {
      expect(thanksPath).toBe(`/petitions/${slug}/thanks?country=GB`);
      const res = await t.agent().get(thanksPath).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toContain('ada@example.org');
      expect(res.text).not.toContain('Ada');
    });

    it('offers the petition page’s share buttons, each carrying its own source code', async () => {
      const html = unescapeHtml((await t.agent().get(thanksPath).expect(200)).text);
      const petitionUrl = `${baseUrl}/petitions/${slug}`;
      const at = (channel: string) => encodeURIComponent(`${petitionUrl}?source=share-${channel}`);
      expect(html).toContain(`href="https://x.com/intent/post?text=`);
      expect(html).toContain(`&url=${at('x')}"`);
      expect(html).toContain(`href="https://www.facebook.com/sharer/sharer.php?u=${at('facebook')}"`);
      expect(html).toMatch(new RegExp(`href="https://wa.me/\\?text=[^"]*${at('whatsapp').replace(/[.?%]/g, '\\$&')}"`));
      expect(html).toMatch(/href="mailto:\?subject=[^"]*share-email"/);
      expect(html).toContain(`value="${petitionUrl}?source=share-copy"`);
      // The same buttons as on the petition page itself.
      const page = unescapeHtml((await t.agent().get(`/petitions/${slug}`).expect(200)).text);
      for (const channel of ['email', 'x', 'facebook', 'whatsapp']) {
        expect([channel, page.includes(encodeURIComponent(`?source=share-${channel}`))]).toEqual([channel, true]);
      }
      expect(page).toContain(`value="${petitionUrl}?source=share-copy"`);
    });

    it('links to the letter form of the petition’s demand with the country chosen, and the form has it', async () => {
      const res = await t.agent().get(thanksPath).expect(200);
      expect(res.text).toContain('Now write to your delegation');
      expect(res.text).toContain('delegation to NATO (United Kingdom)');
      const href = unescapeHtml(/<a class="button" href="([^"]+)" id="write-letter">/.exec(res.text)![1]!);
      expect(href).toBe(`/demands/${demand}/letters/new?country=GB`);
      const form = await t.agent().get(href).expect(200);
      expect(form.text).toMatch(/<option value="GB"[^>]*selected/);
    });

    it('links to the other demands’ petitions, not to this one again', async () => {
      const res = await t.agent().get(thanksPath).expect(200);
      const list = /<ul class="other-petitions">([\s\S]*?)<\/ul>/.exec(res.text)![1]!;
      const linked = [...list.matchAll(/href="\/petitions\/([a-z-]+)"/g)].map((m) => m[1]);
      expect(linked).toEqual(expect.arrayContaining([...others, 'protect-civil-society']));
      expect(linked).toHaveLength(4);
      expect(linked).not.toContain(slug);
    });

    it('is the same page in French, its language link keeping the country', async () => {
      const html = unescapeHtml((await t.agent().get(`${thanksPath}&lang=fr`).expect(200)).text);
      expect(html).toContain('<html lang="fr">');
      expect(html).toContain('Écrivez maintenant à votre délégation');
      expect(html).toContain('(Royaume-Uni)');
      expect(html).toContain(`href="/demands/${demand}/letters/new?country=GB"`);
      expect(html).toContain('Les autres pétitions de la campagne');
      expect(html).toContain('source%3Dshare-x');
      expect(html).toContain(`href="/petitions/${slug}/thanks?country=GB&lang=en"`);
    });

    it('offers a blank letter form to a signer from outside NATO, and ignores a country it does not know', async () => {
      const swiss = await signAndConfirm({ ...aSigner, email: 'heidi@example.org', country: 'CH' });
      expect(swiss).toBe(`/petitions/${slug}/thanks?country=CH`);
      for (const path of [swiss, `/petitions/${slug}/thanks?country=ZZ`, `/petitions/${slug}/thanks?country=%3Cb%3E`]) {
        const res = await t.agent().get(path).expect(200);
        expect([path, /id="write-letter"/.test(res.text)]).toEqual([path, true]);
        expect(res.text).toContain(`href="/demands/${demand}/letters/new" id="write-letter"`);
        expect(res.text).not.toContain('<b>');
      }
    });
  });

  describe('GET /petitions/:slug/check-email', () => {
    async function signedAs(email: string): Promise<string> {
      const res = await sign(t.agent(), slug, { ...aSigner, email });
      expect(res.headers.location).toMatch(checkEmailLocation(slug));
      return res.headers.location!;
    }

    it('names the address the mail went to, masked, to this visitor alone', async () => {
      const location = await signedAs('grace.hopper@example.org');
      expect(location).not.toContain('grace');
      expect(location).not.toContain('example.org');
      const res = await t.agent().get(location).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.text).toContain('<strong>g•••@example.org</strong>');
      expect(res.text).not.toContain('grace.hopper');
      const fr = await t.agent().get(`${location}&lang=fr`).expect(200);
      expect(fr.text).toContain('à l&#x27;adresse ci-dessous');
      expect(fr.text).toContain('<strong>g•••@example.org</strong>');
    });

    it('shows no address when the parameter was changed, or is too old', async () => {
      const location = await signedAs('ada@example.org');
      const [, value, expires, mac] = /\?to=([\w-]+)\.([0-9a-z]+)\.([\w-]+)$/.exec(location)!;
      const forged = Buffer.from('evil@attacker.example', 'utf8').toString('base64url');
      const flipped = mac!.slice(0, -1) + (mac!.endsWith('A') ? 'B' : 'A');
      const later = (parseInt(expires!, 36) + 60_000).toString(36);
      for (const to of [`${forged}.${expires}.${mac}`, `${value}.${expires}.${flipped}`, `${value}.${later}.${mac}`]) {
        const res = await t.agent().get(`/petitions/${slug}/check-email?to=${to}`).expect(200);
        expect([to, res.text.includes('•••'), res.text.includes('attacker')]).toEqual([to, false, false]);
        expect(res.text).toContain('We have sent you an email with a link.');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      // Half an hour on, the genuine parameter names nothing either.
      expect((await t.agent().get(location).expect(200)).text).toContain('a•••@example.org');
      now += 31 * 60_000;
      expect((await t.agent().get(location).expect(200)).text).not.toContain('•••');
    });
  });
});
