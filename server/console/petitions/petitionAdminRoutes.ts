import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import { changes, type AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { notFound } from '../../errors';
import { brusselsFields } from '../../petitions/closingDate';
import type { Lang } from '../../i18n/i18n';
import type { DashboardService } from '../dashboard/dashboardService';
import type { TargetsService } from '../targets/targetsService';
import {
  parseDemandForm,
  parsePetitionForm,
  type DemandErrors,
  type DemandFormValues,
  type PetitionAdminService,
  type PetitionErrors,
  type PetitionFormValues,
} from './petitionAdminService';

const petitionFields = [
  'slug',
  'goal',
  'demand',
  'closesDate',
  'closesTime',
  'titleEn',
  'bodyEn',
  'titleFr',
  'bodyFr',
] as const;

/** A closing time as the audit log records it: Brussels time, as the form shows it. */
const closingForAudit = (ms: number | null) =>
  ms === null ? null : (({ date, time }) => `${date} ${time} Europe/Brussels`)(brusselsFields(ms));
const demandFields = ['titleEn', 'summaryEn', 'titleFr', 'summaryFr'] as const;

export function petitionAdminRoutes(deps: {
  petitionAdmin: PetitionAdminService;
  dashboard: DashboardService;
  targets: TargetsService;
  audit: AuditLog;
  render: AdminRender;
}): Router {
  const { petitionAdmin, dashboard, targets, audit, render } = deps;
  const router = Router();
  const organiserId = (res: Response) => currentOrganiser(res)!.id;

  /** A petition as its audit entries record it: addressees by name, not by id. */
  async function forAudit(values: PetitionFormValues) {
    const names = new Map((await targets.list()).map((t) => [t.id, t.name]));
    return {
      goal: Number(values.goal),
      demand: values.demand,
      titleEn: values.titleEn,
      bodyEn: values.bodyEn,
      titleFr: values.titleFr,
      bodyFr: values.bodyFr,
      closes: values.closesDate ? `${values.closesDate} ${values.closesTime} Europe/Brussels` : null,
      addressees: [...values.targets].sort((a, b) => a - b).map((id) => names.get(id) ?? `#${id}`),
    };
  }

  async function demandValues(slug: string): Promise<DemandFormValues | undefined> {
    const demand = await petitionAdmin.findDemand(slug);
    if (!demand) return undefined;
    return {
      titleEn: demand.texts.en?.title ?? '',
      summaryEn: demand.texts.en?.summary ?? '',
      titleFr: demand.texts.fr?.title ?? '',
      summaryFr: demand.texts.fr?.summary ?? '',
    };
  }

  async function renderForm(
    req: Request,
    res: Response,
    mode: 'new' | 'edit',
    values: PetitionFormValues,
    errors: PetitionErrors = {},
    status = 200,
  ) {
    const petition = mode === 'edit' ? await petitionAdmin.find(values.slug) : undefined;
    const chosen = new Set(values.targets);
    render(
      req,
      res,
      'petitions/form',
      {
        titleKey: mode === 'new' ? 'admin.petitions.newTitle' : 'admin.petitions.editTitle',
        section: 'petitions',
        creating: mode === 'new',
        petition,
        values,
        fields: errorList(errors, petitionFields),
        demands: (await petitionAdmin.demands()).map((d) => ({
          slug: d.slug,
          title: d.texts[res.locals.lang as Lang]?.title ?? d.texts.en?.title ?? d.slug,
          selected: d.slug === values.demand,
          taken: d.petitionSlug !== null && d.slug !== petition?.demandSlug,
        })),
        // "Each signer's own delegation" is always addressed; these are the fixed extra addressees.
        fixedTargets: (await targets.list())
          .filter((t) => !t.isDefault)
          .map((t) => ({ ...t, checked: chosen.has(t.id) })),
      },
      status,
    );
  }

  router.get('/petitions', requireRole('viewer'), async (req, res) => {
    const lang = res.locals.lang as Lang;
    render(req, res, 'petitions/index', {
      titleKey: 'admin.petitions.title',
      section: 'petitions',
      petitions: await dashboard.list(lang),
      demands: (await petitionAdmin.demands()).map((d) => ({
        slug: d.slug,
        title: d.texts[lang]?.title ?? d.texts.en?.title,
      })),
    });
  });

  const blank: PetitionFormValues = {
    slug: '',
    goal: '',
    demand: '',
    titleEn: '',
    bodyEn: '',
    titleFr: '',
    bodyFr: '',
    closesDate: '',
    closesTime: '',
    targets: [],
  };

  router.get('/petitions/new', requireRole('organiser'), (req, res) => renderForm(req, res, 'new', blank));

  router.post('/petitions', requireRole('organiser'), async (req, res) => {
    const values = parsePetitionForm(req.body);
    const result = await petitionAdmin.create(values);
    if (!result.ok) return renderForm(req, res, 'new', values, result.errors, 400);
    const created = await forAudit((await petitionAdmin.valuesOf(values.slug))!);
    await audit.record({
      organiserId: organiserId(res),
      action: 'petition.create',
      subject: values.slug,
      details: {
        titleEn: created.titleEn,
        goal: created.goal,
        demand: created.demand,
        closes: created.closes,
        addressees: created.addressees,
      },
    });
    res.redirect(303, `/admin/petitions/${values.slug}/edit?notice=petitionCreated`);
  });

  router.get('/petitions/:slug/edit', requireRole('organiser'), async (req, res) => {
    const values = await petitionAdmin.valuesOf(String(req.params.slug));
    if (!values) throw notFound();
    await renderForm(req, res, 'edit', values);
  });

  router.post('/petitions/:slug', requireRole('organiser'), async (req, res) => {
    const current = await petitionAdmin.find(String(req.params.slug));
    if (!current) throw notFound();
    const values = { ...parsePetitionForm(req.body), slug: current.slug };
    const before = await forAudit((await petitionAdmin.valuesOf(current.slug))!);
    const result = await petitionAdmin.update(current.slug, values);
    if (!result.ok) return renderForm(req, res, 'edit', values, result.errors, 400);
    // What changed, each field before → after, as saved.
    await audit.record({
      organiserId: organiserId(res),
      action: 'petition.update',
      subject: current.slug,
      details: changes(before, await forAudit((await petitionAdmin.valuesOf(current.slug))!)),
    });
    res.redirect(303, `/admin/petitions/${current.slug}/edit?notice=petitionSaved`);
  });

  // Closing stops the signing at once: the console asks first, on a page of its own (no script).
  router.get('/petitions/:slug/close', requireRole('organiser'), async (req, res) => {
    const lang = res.locals.lang as Lang;
    const slug = String(req.params.slug);
    const petition = await petitionAdmin.find(slug);
    if (!petition) throw notFound();
    if (petition.state !== 'open') return res.redirect(303, `/admin/petitions/${slug}/edit`);
    const summary = (await dashboard.list(lang)).find((p) => p.slug === slug);
    render(req, res, 'petitions/close', {
      titleKey: 'admin.petitions.closeTitle',
      section: 'petitions',
      slug,
      petitionTitle: summary?.title ?? petition.texts[lang]?.title ?? petition.texts.en?.title ?? slug,
      count: summary?.counts.validated ?? 0,
    });
  });

  router.post('/petitions/:slug/state', requireRole('organiser'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const state = body.state;
    const slug = String(req.params.slug);
    if (state !== 'open' && state !== 'closed') throw notFound();
    // A close that did not come through the confirmation page goes there first.
    if (state === 'closed' && body.confirm !== 'yes') return res.redirect(303, `/admin/petitions/${slug}/close`);
    const result = await petitionAdmin.setState(slug, state);
    if (!result.found) throw notFound();
    // Already so (a double click, another organiser's tab): nothing changed, nothing to audit.
    if (result.changed)
      await audit.record({
        organiserId: organiserId(res),
        action: state === 'open' ? 'petition.open' : 'petition.close',
        subject: slug,
        ...(result.clearedClosesAt !== null
          ? { details: { closes: { from: closingForAudit(result.clearedClosesAt), to: null } } }
          : {}),
      });
    const notice = state === 'open' ? 'petitionOpened' : 'petitionClosed';
    res.redirect(303, `/admin/petitions/${slug}/edit?notice=${notice}`);
  });

  function renderDemand(
    req: Request,
    res: Response,
    slug: string,
    values: DemandFormValues,
    errors: DemandErrors = {},
    status = 200,
  ) {
    render(
      req,
      res,
      'petitions/demand',
      {
        titleKey: 'admin.demands.editTitle',
        section: 'petitions',
        slug,
        values,
        fields: errorList(errors, demandFields),
      },
      status,
    );
  }

  router.get('/demands/:slug/edit', requireRole('organiser'), async (req, res) => {
    const demand = await petitionAdmin.findDemand(String(req.params.slug));
    if (!demand) throw notFound();
    renderDemand(req, res, demand.slug, (await demandValues(demand.slug))!);
  });

  router.post('/demands/:slug', requireRole('organiser'), async (req, res) => {
    const demand = await petitionAdmin.findDemand(String(req.params.slug));
    if (!demand) throw notFound();
    const values = parseDemandForm(req.body);
    const before = (await demandValues(demand.slug))!;
    const result = await petitionAdmin.updateDemand(demand.slug, values);
    if (!result.ok) return renderDemand(req, res, demand.slug, values, result.errors, 400);
    await audit.record({
      organiserId: organiserId(res),
      action: 'demand.update',
      subject: demand.slug,
      details: changes(before, (await demandValues(demand.slug))!),
    });
    res.redirect(303, `/admin/petitions?notice=demandSaved`);
  });

  return router;
}
