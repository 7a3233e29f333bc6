import { Router } from 'express';
import type { AdminRender } from '../../admin/adminRender';
import { requireRole } from '../../admin/requireRole';
import type { Lang } from '../../i18n/i18n';
import { chartPeriods, type DashboardService } from './dashboardService';

export function dashboardRoutes(deps: { dashboard: DashboardService; render: AdminRender }): Router {
  const { dashboard, render } = deps;
  const router = Router();

  router.get('/', requireRole('viewer'), async (req, res) => {
    const days = Number(req.query.days) === 90 ? 90 : 30;
    const slug = typeof req.query.petition === 'string' ? req.query.petition : undefined;
    const overview = await dashboard.overview(res.locals.lang as Lang, { slug, days });
    render(req, res, 'dashboard', {
      titleKey: 'admin.dashboard.title',
      section: 'dashboard',
      ...overview,
      days,
      periods: chartPeriods.map((d) => ({ days: d, active: d === days })),
    });
  });

  return router;
}
