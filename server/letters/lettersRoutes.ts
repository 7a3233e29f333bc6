import { Router, type Request, type Response } from 'express';
import { deliveriesView } from '../deliveries/deliveryRecord';
import { notFound } from '../errors';
import { cacheable } from '../http/caching';
import { formParser } from '../http/formParsers';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import type { PetitionsService } from '../petitions/petitionsService';
import { responsesView, type Responses } from '../responses/responses';
import type { Target } from '../targets/targetsRepository';
import { addressLines, channelOf, deliveryFor, type Channel } from './letterChannel';
import {
  bodyMax,
  fieldOrder,
  parseLetterBody,
  parseLetterForm,
  type LetterErrors,
  type LetterFormValues,
} from './letterForm';
import type { Demand } from './lettersRepository';
import type { Draft, LettersService } from './lettersService';
import { sourceFromQuery } from '../sources/sourceCode';
import { formatDay } from '../time/dates';

const blankForm: LetterFormValues = {
  country: '',
  target: '',
  name: '',
  email: '',
  town: '',
  ownWords: '',
  lang: 'auto',
  copy: false,
  noFollowUp: false,
  delivery: 'post',
};

/** The letter forms' paths, for the app to mount their parser on. */
export const letterForms = ['/demands/:slug/letters', '/demands/:slug/letters/new', '/demands/:slug/letters/preview'];

/**
 * A letter may be 20,000 characters, more than the site-wide 16 kB body limit allows once encoded:
 * the letter forms alone get a larger one, ahead of the site-wide parser.
 */
export const letterBodyParser = formParser('256kb', 30);

/** Names as running text: "Albania, Belgium and Bulgaria" (British English, as elsewhere on the site). */
function listOf(names: string[], lang: Lang): string {
  return new Intl.ListFormat(lang === 'en' ? 'en-GB' : lang, { type: 'conjunction' }).format(names);
}

/** The letter's state as its page words it: a letter for the pack, or sent oneself, says so. */
function stateKey(letter: { state: string; delivery: string }): string {
  if (letter.delivery === 'self' && letter.state === 'pending') return 'pendingSelf';
  if (letter.delivery === 'post' && ['pending', 'ready', 'sent'].includes(letter.state)) return `${letter.state}Post`;
  return letter.state;
}

/**
 * Rows enough for the whole letter, counting a long line as the lines it wraps to on a phone (about
 * 40 characters): where CSS `field-sizing` is not supported, the textarea is still its text's height
 * and the page scrolls, not a box inside it.
 */
export function rowsFor(text: string): number {
  const rows = text.split('\n').reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / 40)), 0);
  return Math.min(Math.max(rows + 1, 8), 400);
}

function errorView(errors: LetterErrors) {
  const errorList = fieldOrder.filter((field) => errors[field]).map((field) => ({ field, messageKey: errors[field] }));
  return { errors, errorList, hasErrors: errorList.length > 0 };
}

export function lettersRoutes(deps: {
  letters: LettersService;
  render: Render;
  /** For the demand page's deliveries: those of its petition, from the kept page. */
  petitions?: PetitionsService;
  /** For the demand page's responses when the demand has no petition (else its petition's kept page). */
  responses?: Responses;
}): Router {
  const { letters, render, petitions, responses } = deps;
  const router = Router();

  async function demandOf(req: Request, res: Response): Promise<Demand> {
    const demand = await letters.demand(String(req.params.slug), res.locals.lang as Lang);
    if (!demand) throw notFound();
    return demand;
  }

  /**
   * The one answer to a letter that was written, whatever its address wrote before (SECURITY 17):
   * the link comes by mail, to confirm the letter or, when the writer chose to send it, to the letter.
   * The page's wording follows the form's choice, never anything stored.
   */
  function checkEmail(res: Response, demand: Demand, target: Target, values: LetterFormValues) {
    const self = deliveryFor(target, values.delivery) === 'self' ? '&by=self' : '';
    res.redirect(303, `/demands/${demand.slug}/letters/check-email?to=${target.id}${self}`);
  }

  async function showForm(
    req: Request,
    res: Response,
    demand: Demand,
    values: LetterFormValues,
    errors: LetterErrors = {},
    status = 200,
  ) {
    const lang = res.locals.lang as Lang;
    const countries = await letters.countryChannels(lang);
    const by = (channel: Channel) =>
      listOf(
        countries.filter((c) => c.channel === channel).map((c) => c.name),
        lang,
      );
    render(
      req,
      res,
      'letters/new',
      {
        title: demand.title,
        demand,
        countries,
        // How each delegation receives letters, before anyone writes (the page works without script).
        channels: { email: by('email'), post: by('post') },
        channel: countries.find((c) => c.code === values.country)?.channel,
        frenchCountries: await letters.frenchCountries(lang),
        form: { values, ...errorView(errors) },
      },
      status,
    );
  }

  function showPreview(
    req: Request,
    res: Response,
    demand: Demand,
    values: LetterFormValues,
    draft: Draft,
    body: string,
    error?: string,
    status = 200,
  ) {
    render(
      req,
      res,
      'letters/preview',
      {
        title: demand.title,
        demand,
        draft,
        // The letter's language is settled now: the hidden field carries it, not "auto".
        values: { ...values, lang: draft.lang, target: String(draft.target.id) },
        // A delegation on paper: the writer chooses the pack (the default) or to send it themselves.
        byPost: channelOf(draft.target) === 'post',
        sendSelf: values.delivery === 'self',
        targetAddress: addressLines(draft.target.postalAddress).join(', '),
        // Several targets in one country (its delegation to NATO, to the Parliamentary Assembly…): a choice.
        targetChoices:
          draft.others.length > 0
            ? [draft.target, ...draft.others].map((t) => ({
                id: t.id,
                name: t.name,
                kindKey: `letters.kind.${t.kind}`,
                checked: t.id === draft.target.id,
              }))
            : null,
        body,
        bodyRows: rowsFor(body),
        bodyMax,
        form: { values, ...errorView(error ? { body: error } : {}) },
      },
      status,
    );
  }

  router.get('/demands/:slug', async (req, res) => {
    cacheable(req, res);
    const lang = res.locals.lang as Lang;
    const page = await letters.demandLetters(req.params.slug, lang);
    if (!page) throw notFound();
    const slug = page.demand.petitionSlug;
    const petition = slug ? await petitions?.page(slug, lang) : undefined;
    const record = petition ? deliveriesView(petition.petition.slug, petition.deliveries) : undefined;
    // The petition's kept page holds the answers about the demand too (refreshed with its counts).
    const answers = petition ? petition.responses : ((await responses?.forDemand(page.demand.id, lang)) ?? []);
    render(req, res, 'letters/demand', {
      title: page.demand.title,
      ...page,
      record,
      answers: responsesView(answers),
    });
  });

  router.get('/demands/:slug/letters/new', async (req, res) => {
    cacheable(req, res);
    const demand = await demandOf(req, res);
    const country = typeof req.query.country === 'string' ? req.query.country.toUpperCase() : '';
    const known = (await letters.countryCodes()).has(country);
    const source = sourceFromQuery(req.query);
    await showForm(req, res, demand, { ...blankForm, country: known ? country : '', source });
  });

  // "Change my details" on the preview: the form again, with what was typed.
  router.post('/demands/:slug/letters/new', async (req, res) => {
    const demand = await demandOf(req, res);
    await showForm(req, res, demand, parseLetterForm(req.body, await letters.countryCodes()).values);
  });

  router.post('/demands/:slug/letters/preview', async (req, res) => {
    const demand = await demandOf(req, res);
    const form = parseLetterForm(req.body, await letters.countryCodes());
    if (!form.ok) return showForm(req, res, demand, form.values, form.errors, 400);
    const draft = await letters.draft(demand, form.values);
    if (!draft) return showForm(req, res, demand, form.values, { country: 'letters.errors.countryInvalid' }, 400);
    // The honeypot is on this first form only: a bot that fills it goes no further, told as everyone is.
    if (form.honeypot) return checkEmail(res, demand, draft.target, form.values);
    showPreview(req, res, demand, form.values, draft, draft.text);
  });

  router.post('/demands/:slug/letters', async (req, res) => {
    const demand = await demandOf(req, res);
    const form = parseLetterForm(req.body, await letters.countryCodes());
    if (!form.ok) return showForm(req, res, demand, form.values, form.errors, 400);
    const draft = await letters.draft(demand, form.values);
    if (!draft) return showForm(req, res, demand, form.values, { country: 'letters.errors.countryInvalid' }, 400);
    const body = parseLetterBody(req.body);
    if (!body.ok) return showPreview(req, res, demand, form.values, draft, body.body, body.error, 400);
    // A filled honeypot is a bot: it is told the same as everyone, and nothing is stored.
    if (form.honeypot) return checkEmail(res, demand, draft.target, form.values);
    const outcome = await letters.submit(demand, form.values, body.body, req.ip, res.locals.lang as Lang);
    if (outcome.kind === 'invalid')
      return showPreview(req, res, demand, form.values, draft, body.body, outcome.error, 400);
    checkEmail(res, demand, draft.target, form.values);
  });

  // A language switch on a page answered to a POST lands here with a GET.
  for (const path of ['/demands/:slug/letters', '/demands/:slug/letters/preview']) {
    router.get(path, (req, res) => res.redirect(303, `/demands/${req.params.slug}/letters/new`));
  }

  router.get('/demands/:slug/letters/check-email', async (req, res) => {
    cacheable(req, res);
    const demand = await demandOf(req, res);
    // Which target was written to, from the form (not from anything stored): its wording only.
    const to = typeof req.query.to === 'string' ? await letters.target(req.query.to) : undefined;
    const by = !to ? 'email' : channelOf(to) === 'email' ? 'email' : req.query.by === 'self' ? 'self' : 'post';
    render(req, res, 'letters/check-email', { title: demand.title, demand, target: to, by });
  });

  // Pages whose address holds a token: never kept, and the address never sent to another site as
  // a Referer. `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null`
  // with the page's POSTs, which the cross-origin check refuses when Sec-Fetch-Site is missing.
  function privatePage(res: Response) {
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'same-origin');
  }

  function badLink(req: Request, res: Response, status: 'unknown' | 'expired') {
    if (status === 'expired') render(req, res, 'letters/link-expired', {}, 410);
    else render(req, res, 'letters/link-invalid', {}, 404);
  }

  // A GET only shows a Confirm button: mail scanners fetch links, and must not send anything.
  router.get('/letters/:token/confirm', async (req, res) => {
    privatePage(res);
    const result = await letters.linkStatus(req.params.token);
    if (result.status === 'unknown' || result.status === 'expired') return badLink(req, res, result.status);
    if (result.status === 'done') return res.redirect(303, `/letters/${result.statusToken}`);
    const page = (await letters.page(letters.statusToken(result.letter), res.locals.lang as Lang))!;
    render(req, res, 'letters/confirm', {
      title: page.demand.title,
      token: req.params.token,
      byPost: page.letter.delivery === 'post',
      ...page,
    });
  });

  router.post('/letters/:token/confirm', async (req, res) => {
    privatePage(res);
    const result = await letters.confirm(req.params.token);
    if (result.status === 'unknown' || result.status === 'expired') return badLink(req, res, result.status);
    if (result.status === 'pending') return res.redirect(303, `/letters/${req.params.token}/confirm`);
    res.redirect(303, `/letters/${result.statusToken}`);
  });

  router.get('/letters/:token', async (req, res) => {
    privatePage(res);
    const page = await letters.page(req.params.token, res.locals.lang as Lang);
    if (!page) return badLink(req, res, 'unknown');
    const { letter } = page;
    const lang = res.locals.lang as Lang;
    const selfPending = letter.delivery === 'self' && letter.state === 'pending';
    const state = stateKey(letter);
    render(req, res, 'letters/status', {
      title: page.demand.title,
      ...page,
      selfPending,
      // Until it is confirmed, or marked sent, from its mailbox, the text may be a stranger's.
      unconfirmed: letter.state === 'pending',
      stateLabelKey: `letters.status.label.${state}`,
      stateTextKey: `letters.status.${state}`,
      sentDate: letter.sentAt ? formatDay(letter.sentAt, lang) : '',
      ttlDays: letters.pendingTtlDays,
    });
  });

  router.get('/letters/:token/print', async (req, res) => {
    privatePage(res);
    const page = await letters.page(req.params.token, res.locals.lang as Lang);
    if (!page) return badLink(req, res, 'unknown');
    // A letter the writer posts themselves carries both address blocks.
    render(req, res, 'letters/print', { title: page.subject, addressed: page.letter.delivery === 'self', ...page });
  });

  router.post('/letters/:token/self-sent', async (req, res) => {
    privatePage(res);
    if (!(await letters.markSelfSent(req.params.token))) {
      const page = await letters.page(req.params.token, res.locals.lang as Lang);
      if (!page) return badLink(req, res, 'unknown');
    }
    res.redirect(303, `/letters/${req.params.token}`);
  });

  return router;
}
