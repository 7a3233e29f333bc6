import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import type { DashboardService } from '../dashboard/dashboardService';
import type { Lang } from '../../i18n/i18n';
import type { PetitionsService } from '../../petitions/petitionsService';
import {
  exportFilename,
  exportFilters,
  exportStates,
  readExportForm,
  writeSignaturesCsv,
  type ExportErrors,
  type ExportFormValues,
  type ExportService,
} from './exportService';

const exportFields = ['petition', 'country', 'state', 'from', 'to'] as const;

export function exportRoutes(deps: {
  exports: ExportService;
  petitions: PetitionsService;
  dashboard: DashboardService;
  audit: AuditLog;
  render: AdminRender;
}): Router {
  const { exports, petitions, dashboard, audit, render } = deps;
  const router = Router();

  async function renderForm(
    req: Request,
    res: Response,
    values: ExportFormValues,
    errors: ExportErrors = {},
    status = 200,
  ) {
    const lang = res.locals.lang as Lang;
    const choices = await petitions.countryChoices(lang);
    render(
      req,
      res,
      'exports/index',
      {
        titleKey: 'admin.exports.title',
        section: 'exports',
        values,
        fields: errorList(errors, exportFields),
        petitions: (await dashboard.list(lang)).map((p) => ({ ...p, selected: p.slug === values.petition })),
        countries: [...choices.nato, ...choices.others].map((c) => ({ ...c, selected: c.code === values.country })),
        states: exportStates.map((s) => ({ state: s, selected: s === values.state })),
      },
      status,
    );
  }

  router.get('/exports', requireRole('organiser'), (req, res) => renderForm(req, res, readExportForm({})));

  /**
   * The CSV streams to the browser a page of rows at a time (never built in memory), with
   * backpressure: when the connection is slow, reading the next page waits.
   */
  router.get('/exports/signatures.csv', requireRole('organiser'), async (req, res) => {
    const values = readExportForm(req.query as Record<string, unknown>);
    const petition = values.petition ? await petitions.findPetition(values.petition, 'en') : undefined;
    const parsed = exportFilters(values, {
      petitionId: () => petition?.id,
      countries: await petitions.countryCodes(),
    });
    if (!parsed.ok) return renderForm(req, res, values, parsed.errors, 400);
    await audit.record({
      organiserId: currentOrganiser(res)!.id,
      action: 'signatures.export',
      subject: values.petition || null,
      details: { ...values },
    });
    const filename = exportFilename(values.petition || undefined, Date.now());
    res.status(200);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="${filename}"`);
    const slugs = await petitions.slugsById();
    await writeSignaturesCsv(exports.pages(parsed.filters), res, { slugOf: (id) => slugs.get(id) ?? String(id) });
    res.end();
  });

  return router;
}
