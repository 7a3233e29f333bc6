import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import type { Lang } from '../../i18n/i18n';
import type { DashboardService } from '../dashboard/dashboardService';
import type { Erasure } from './erasure';
import type { Retention } from './retention';
import { readInvalidationForm, type InvalidationFormValues, type SignatureAdminService } from './signatureAdminService';

const criteriaFields = ['criteria', 'petition', 'email', 'domain', 'ip', 'postcode', 'from', 'to'] as const;

export function signatureAdminRoutes(deps: {
  signatureAdmin: SignatureAdminService;
  erasure: Erasure;
  retention: Retention;
  dashboard: DashboardService;
  audit: AuditLog;
  render: AdminRender;
  retentionDays: number;
  mailRetentionDays: number;
  letterRetentionDays: number;
}): Router {
  const { signatureAdmin, erasure, retention, dashboard, audit, render } = deps;
  const router = Router();
  const organiserId = (res: Response) => currentOrganiser(res)!.id;

  router.get('/signatures', requireRole('viewer'), async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const found = q ? await signatureAdmin.find(q) : undefined;
    // Looking someone up is an action too; an erasure later blanks the query here.
    if (q) await audit.record({ organiserId: organiserId(res), action: 'signatures.search', details: { q } });
    render(req, res, 'signatures/search', {
      titleKey: 'admin.signatures.title',
      section: 'signatures',
      q,
      results: found?.results,
      total: found?.total,
      partial: found ? found.total > found.results.length : false,
      retentionDays: deps.retentionDays,
      mailRetentionDays: deps.mailRetentionDays,
      letterRetentionDays: deps.letterRetentionDays,
    });
  });

  async function petitionChoices(res: Response, chosen: string) {
    return (await dashboard.list(res.locals.lang as Lang)).map((p) => ({
      slug: p.slug,
      title: p.title,
      selected: p.slug === chosen,
    }));
  }

  async function renderInvalidate(
    req: Request,
    res: Response,
    values: InvalidationFormValues,
    extra = {},
    status = 200,
  ) {
    render(
      req,
      res,
      'signatures/invalidate',
      {
        titleKey: 'admin.invalidate.title',
        section: 'signatures',
        values,
        petitions: await petitionChoices(res, values.petition),
        fields: errorList({}, criteriaFields),
        ...extra,
      },
      status,
    );
  }

  // The count comes first: the form asks, the page says how many would go, and only then the button.
  router.get('/signatures/invalidate', requireRole('organiser'), async (req, res) => {
    const values = readInvalidationForm(req.query);
    if (req.query.preview === undefined) return renderInvalidate(req, res, values);
    const parsed = await signatureAdmin.criteria(values);
    if (!parsed.ok)
      return renderInvalidate(req, res, values, { fields: errorList(parsed.errors, criteriaFields) }, 400);
    const counts = await signatureAdmin.preview(parsed.criteria);
    return renderInvalidate(req, res, values, { preview: { ...counts, total: counts.pending + counts.validated } });
  });

  router.post('/signatures/invalidate', requireRole('organiser'), async (req, res) => {
    const values = readInvalidationForm(req.body);
    const parsed = await signatureAdmin.criteria(values);
    if (!parsed.ok)
      return renderInvalidate(req, res, values, { fields: errorList(parsed.errors, criteriaFields) }, 400);
    const invalidated = await signatureAdmin.invalidate(parsed.criteria);
    await audit.record({
      organiserId: organiserId(res),
      action: 'signatures.invalidate',
      subject: values.petition || null,
      details: { criteria: signatureAdmin.forAudit(values), invalidated },
    });
    res.redirect(303, `/admin/signatures/invalidate?notice=invalidated&n=${invalidated}`);
  });

  router.get('/signatures/erase', requireRole('organiser'), async (req, res) => {
    const email = typeof req.query.email === 'string' ? req.query.email.trim().slice(0, 300) : '';
    const person = email ? await erasure.preview(email) : undefined;
    const found = person ? (await signatureAdmin.search(email)).filter((s) => person.signatureIds.includes(s.id)) : [];
    // It lists a person's signatures: a look-up like a search (an erasure later blanks the address here).
    if (person) {
      await audit.record({
        organiserId: organiserId(res),
        action: 'person.lookup',
        details: { email, signatures: person.signatureIds.length },
      });
    }
    render(req, res, 'signatures/erase', {
      titleKey: 'admin.erase.title',
      section: 'signatures',
      email,
      person,
      found,
    });
  });

  router.post('/signatures/erase', requireRole('organiser'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, 300) : '';
    if (!email) return res.redirect(303, '/admin/signatures/erase');
    const counts = await erasure.erase(email);
    // The entry says what was erased, never whose: it must not become the trace it removes.
    await audit.record({ organiserId: organiserId(res), action: 'person.erase', details: { rows: counts } });
    res.redirect(303, `/admin/signatures/erase?notice=erased&n=${counts.signatures ?? 0}`);
  });

  router.post('/signatures/retention', requireRole('organiser'), async (_req, res) => {
    const n = await retention.run(organiserId(res));
    res.redirect(303, `/admin/signatures?notice=retentionRun&n=${n}`);
  });

  return router;
}
