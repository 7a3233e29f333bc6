import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { displayCountry } from '../../campaign/countries';
import { notFound } from '../../errors';
import { formParser } from '../../http/formParsers';
import type { Lang } from '../../i18n/i18n';
import type { PetitionsService } from '../../petitions/petitionsService';
import type { UpdatesService } from '../../updates/updatesService';
import {
  draftOf,
  parseUpdateForm,
  updateFields,
  validateUpdate,
  type UpdateErrors,
  type UpdateFormValues,
  type UpdatePrefill,
} from './updateForm';

/** The composer's forms (under /admin), for the console to mount their parser on. */
export const updateForms = ['/updates/:slug/preview', '/updates/:slug/test', '/updates/:slug/send'];

/**
 * An update may be 20,000 characters in each language and narrowed to many countries: more than the
 * site-wide body limits allow.
 */
export const updateBodyParser = formParser('256kb', 400);

export function updatesRoutes(deps: {
  updates: UpdatesService;
  petitions: PetitionsService;
  audit: AuditLog;
  render: AdminRender;
  /** The draft for `?response=<id>` ("Tell the signers" on a delegation's answer), when the app records answers. */
  prefill?: (responseId: number) => Promise<UpdatePrefill | undefined>;
}): Router {
  const { updates, petitions, audit, render } = deps;
  const router = Router();

  async function petitionOf(req: Request, res: Response) {
    const petition = await petitions.findPetition(String(req.params.slug), res.locals.lang as Lang);
    if (!petition) throw notFound();
    return petition;
  }

  /** The countries the audience may be narrowed to: those of the petition's signers. */
  async function countriesOf(slug: string, lang: Lang, chosen: string[]) {
    const page = await petitions.page(slug, lang);
    return (page?.countryCounts ?? []).map((c) => ({
      code: c.country,
      name: displayCountry(c.country, lang),
      count: c.count,
      checked: chosen.includes(c.country),
    }));
  }

  async function renderComposer(
    req: Request,
    res: Response,
    values: UpdateFormValues,
    errors: UpdateErrors = {},
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const lang = res.locals.lang as Lang;
    const petition = await petitionOf(req, res);
    render(
      req,
      res,
      'updates/compose',
      {
        titleKey: 'admin.updates.composeTitle',
        section: 'updates',
        petition,
        values,
        fields: errorList(errors, updateFields),
        countries: await countriesOf(petition.slug, lang, values.countries),
        ...extra,
      },
      status,
    );
  }

  router.get('/updates', requireRole('viewer'), async (req, res) => {
    const lang = res.locals.lang as Lang;
    const list = [];
    for (const d of await petitions.demands(lang)) {
      if (!d.petitionSlug) continue;
      const petition = await petitions.findPetition(d.petitionSlug, lang);
      if (!petition) continue;
      const sent = await updates.ofPetition(petition.id);
      list.push({ slug: petition.slug, title: petition.title, updates: sent });
    }
    render(req, res, 'updates/index', { titleKey: 'admin.updates.title', section: 'updates', petitions: list });
  });

  router.get('/updates/:slug/new', requireRole('organiser'), async (req, res) => {
    const blank = { subjectEn: '', bodyEn: '', subjectFr: '', bodyFr: '', countries: [] };
    // A draft to start from: shown, never sent as is. Only for the petition it was written for.
    const responseId = typeof req.query.response === 'string' ? req.query.response : '';
    const draft = /^\d{1,15}$/.test(responseId) ? await deps.prefill?.(Number(responseId)) : undefined;
    const values: UpdateFormValues = {
      ...(draft && draft.petitionSlug === req.params.slug ? draft.values : blank),
      key: updates.newKey(),
    };
    await renderComposer(req, res, values);
  });

  /** Checks the form; on errors the composer comes back with the values and a message per field. */
  async function checked(req: Request, res: Response) {
    const petition = await petitionOf(req, res);
    const values = parseUpdateForm(req.body);
    if (!values.key) values.key = updates.newKey();
    const known = new Set((await countriesOf(petition.slug, res.locals.lang as Lang, [])).map((c) => c.code));
    const errors = validateUpdate(values, known);
    if (Object.keys(errors).length > 0) {
      await renderComposer(req, res, values, errors, {}, 400);
      return undefined;
    }
    return { petition, values, draft: draftOf(petition.id, values) };
  }

  router.post('/updates/:slug/preview', requireRole('organiser'), async (req, res) => {
    const ok = await checked(req, res);
    if (!ok) return;
    const preview = await updates.preview(ok.draft, currentOrganiser(res)!.email);
    const audience = await updates.audienceCount(ok.petition.id, ok.values.countries);
    await renderComposer(req, res, ok.values, {}, { preview, audience, previewed: true });
  });

  router.post('/updates/:slug/test', requireRole('organiser'), async (req, res) => {
    const ok = await checked(req, res);
    if (!ok) return;
    const organiser = currentOrganiser(res)!;
    const sent = await updates.sendTest(ok.draft, organiser.email, organiser.email);
    await audit.record({
      organiserId: organiser.id,
      action: 'update.test',
      subject: ok.petition.slug,
      details: { subject: ok.values.subjectEn, languages: sent },
    });
    const preview = await updates.preview(ok.draft, organiser.email);
    const audience = await updates.audienceCount(ok.petition.id, ok.values.countries);
    await renderComposer(req, res, ok.values, {}, { preview, audience, previewed: true, testSentTo: organiser.email });
  });

  router.post('/updates/:slug/send', requireRole('organiser'), async (req, res) => {
    const ok = await checked(req, res);
    if (!ok) return;
    const organiser = currentOrganiser(res)!;
    const made = await updates.send(ok.draft, ok.values.key, organiser.id);
    if (made.created) {
      await audit.record({
        organiserId: organiser.id,
        action: 'update.send',
        subject: ok.petition.slug,
        details: { update: made.id, subject: ok.values.subjectEn, countries: ok.values.countries.join(',') || 'all' },
      });
    }
    res.redirect(303, `/admin/updates/${ok.petition.slug}/${made.id}`);
  });

  router.get('/updates/:slug/:id', requireRole('viewer'), async (req, res) => {
    const petition = await petitionOf(req, res);
    const id = Number(req.params.id);
    const update = Number.isInteger(id) ? await updates.byId(id) : undefined;
    if (!update || update.petitionId !== petition.id) throw notFound();
    const progress = await updates.progress(id);
    render(req, res, 'updates/show', {
      titleKey: 'admin.updates.showTitle',
      section: 'updates',
      petition,
      update,
      progress,
      writing: update.state === 'writing',
      countries: update.countries.map((c) => displayCountry(c, res.locals.lang as string)).join(', '),
    });
  });

  return router;
}
