import { Router } from 'express';
import { notFound } from '../errors';
import { cacheable } from '../http/caching';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import type { DeliveryRecord } from '../deliveries/deliveryRecord';
import { shareLinks, type PetitionView } from '../petitions/petitionView';
import type { PetitionPage, PetitionsService } from '../petitions/petitionsService';
import { readSignedValue, signValue } from '../security/tokens';
import { maskEmail } from './maskedEmail';
import { parseSignForm } from './signForm';
import type { ConfirmationStatus, SignaturesService } from './signaturesService';

/** How long the "check your email" page names the address: long enough to read it, not to keep it. */
const checkEmailTtlMs = 30 * 60_000;

export function signaturesRoutes(deps: {
  petitions: PetitionsService;
  signatures: SignaturesService;
  render: Render;
  view: PetitionView;
  baseUrl: string;
  /** Signs the masked address the "check your email" page names. */
  secret: string;
  deliveryRecord?: DeliveryRecord;
  clock?: () => number;
}): Router {
  const { petitions, signatures, render, view, baseUrl, secret, deliveryRecord } = deps;
  const clock = deps.clock ?? Date.now;
  const router = Router();

  // The form on the petition's page, and the same form in a partner's frame (/embed/…), whose answers
  // stay in the frame: its errors, and then "check your email", in the embed's own layout.
  for (const variant of ['page', 'embed'] as const) {
    const prefix = variant === 'embed' ? '/embed' : '';
    router.post(`${prefix}/petitions/:slug/signatures`, async (req, res) => {
      const lang = res.locals.lang as Lang;
      const page = await petitions.page(req.params.slug, lang);
      if (!page) throw notFound();
      if (page.petition.state !== 'open') {
        const embed = variant === 'embed' ? { embed: true, layout: 'embed' } : {};
        return render(
          req,
          res,
          'petitions/closed',
          { title: page.petition.title, petition: page.petition, ...embed },
          409,
        );
      }
      const form = parseSignForm(req.body, await petitions.countryCodes());
      if (!form.ok) return view.showWithErrors(req, res, page, form.values, form.errors, variant);
      // A filled honeypot is a bot: it is told the same as everyone, and nothing is stored.
      if (!form.honeypot) await signatures.sign(page.petition, form.values, req.ip, lang);
      // The frame has no cookie to remember a language by: its address carries it. On the site, the
      // address the mail went to, masked, signed and short-lived: the next page names it to this
      // visitor alone (it is private, and the logs drop query strings). Everyone is told alike.
      if (variant === 'embed')
        return res.redirect(303, `${prefix}/petitions/${page.petition.slug}/check-email?lang=${lang}`);
      const to = signValue(secret, 'check-email', maskEmail(form.values.email), clock() + checkEmailTtlMs);
      res.redirect(303, `/petitions/${page.petition.slug}/check-email?to=${to}`);
    });
  }

  // A language switch on a re-rendered form lands here with a GET.
  router.get('/petitions/:slug/signatures', (req, res) => res.redirect(303, `/petitions/${req.params.slug}`));

  // With `to`, it names the (masked) address the mail went to: kept by nobody, sent to no other site.
  router.get('/petitions/:slug/check-email', async (req, res) => {
    if (req.query.to === undefined) cacheable(req, res);
    else res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    const page = await petitions.page(req.params.slug, res.locals.lang as Lang);
    if (!page) throw notFound();
    render(req, res, 'signatures/check-email', {
      title: page.petition.title,
      petition: page.petition,
      sentTo: readSignedValue(secret, 'check-email', req.query.to, clock()),
    });
  });

  /**
   * What a signer does next, on the thanks page and on their receipt: share the petition (each
   * channel with its own source code), write to their delegation (only a member state's two-letter
   * code travels, into the letter form's address), and the campaign's other petitions.
   */
  async function nextSteps(petition: PetitionPage['petition'], country: string, lang: Lang) {
    const delegation = (await petitions.countryChoices(lang)).nato.find((c) => c.code === country);
    const demands = await petitions.demands(lang);
    return {
      share: shareLinks(`${baseUrl}/petitions/${petition.slug}`, petition.title),
      letterUrl: petition.demandSlug
        ? `/demands/${petition.demandSlug}/letters/new${delegation ? `?country=${delegation.code}` : ''}`
        : undefined,
      delegation,
      others: demands.filter((d) => d.petitionSlug && d.petitionSlug !== petition.slug),
    };
  }

  // The answer to a signer's own confirmation, with the count that includes it: kept by nobody.
  router.get('/petitions/:slug/thanks', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const lang = res.locals.lang as Lang;
    const page = await petitions.page(req.params.slug, lang);
    if (!page) throw notFound();
    const { petition } = page;
    // The signer's country, from the confirmation's redirect: a member state's code, or nothing.
    const country = typeof req.query.country === 'string' ? req.query.country : '';
    render(req, res, 'signatures/thanks', {
      title: petition.title,
      petition,
      count: page.count,
      ...(await nextSteps(petition, country, lang)),
    });
  });

  function badLink(req: Parameters<Render>[0], res: Parameters<Render>[1], status: 'unknown' | 'expired') {
    if (status === 'expired') render(req, res, 'signatures/link-expired', {}, 410);
    else render(req, res, 'signatures/link-invalid', {}, 404);
  }

  /** A link to confirm a signature whose petition closed more than a day ago: the count is final. */
  async function closedLink(
    req: Parameters<Render>[0],
    res: Parameters<Render>[1],
    result: Extract<ConfirmationStatus, { status: 'closed' }>,
  ) {
    const page = await petitions.page((await petitions.slugOf(result.petitionId)) ?? '', res.locals.lang as Lang);
    if (!page) throw notFound();
    render(
      req,
      res,
      'signatures/confirm-closed',
      {
        title: page.petition.title,
        petition: page.petition,
        closedAt: result.closedAt,
        confirmBy: result.confirmBy,
        // The link had expired before the petition closed: its page says so, not "until" a past day.
        expiredFirst: result.confirmBy < result.closedAt,
      },
      410,
    );
  }

  // A GET only shows a Confirm button: mail scanners fetch links, and must not confirm anything.
  router.get('/signatures/:token/confirm', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    // The token never goes to another site; same-origin, so that the Confirm POST carries our Origin.
    res.set('Referrer-Policy', 'same-origin');
    const result = await signatures.status(req.params.token);
    if (result.status === 'unknown' || result.status === 'expired') return badLink(req, res, result.status);
    if (result.status === 'closed') return closedLink(req, res, result);
    if (result.status === 'validated') {
      // The signer's receipt: where their signature stands for their country's delegation.
      if (!deliveryRecord) return res.redirect(303, await thanksUrl(result.petitionId, result.country));
      const lang = res.locals.lang as Lang;
      const page = await petitions.page((await petitions.slugOf(result.petitionId)) ?? '', lang);
      if (!page) throw notFound();
      // And, as on the thanks page, what to do next: this page is the one a signer keeps coming back to.
      return render(req, res, 'signatures/receipt', {
        title: page.petition.title,
        petition: page.petition,
        standing: await deliveryRecord.standing(result.signatureId, result.country),
        ...(await nextSteps(page.petition, result.country, lang)),
      });
    }
    // What the button would confirm, since whoever typed this address may not be its owner.
    const page = await petitions.page((await petitions.slugOf(result.petitionId)) ?? '', res.locals.lang as Lang);
    if (!page) throw notFound();
    render(req, res, 'signatures/confirm', {
      token: req.params.token,
      title: page.petition.title,
      petition: page.petition,
      signer: result.signer,
    });
  });

  router.post('/signatures/:token/confirm', async (req, res) => {
    const result = await signatures.confirm(req.params.token);
    if (result.status === 'unknown' || result.status === 'expired') return badLink(req, res, result.status);
    if (result.status === 'closed') return closedLink(req, res, result);
    res.redirect(303, await thanksUrl(result.petitionId, result.status === 'validated' ? result.country : ''));
  });

  /** The thanks page, told the signer's country (a two-letter code, nothing personal) for the letter link. */
  async function thanksUrl(petitionId: number, country: string): Promise<string> {
    const query = /^[A-Z]{2}$/.test(country) ? `?country=${country}` : '';
    return `/petitions/${await petitions.slugOf(petitionId)}/thanks${query}`;
  }

  // RFC 8058: mail providers POST "List-Unsubscribe=One-Click" here without cookies; a GET only asks.
  router.get('/unsubscribe/:token', (req, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    render(req, res, 'unsubscribe/ask', { token: req.params.token });
  });

  router.post('/unsubscribe/:token', async (req, res) => {
    if (!(await signatures.unsubscribe(req.params.token))) return badLink(req, res, 'unknown');
    render(req, res, 'unsubscribe/done', {});
  });

  return router;
}
