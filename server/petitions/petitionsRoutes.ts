import { Router } from 'express';
import { notFound } from '../errors';
import { cacheable, cacheableData } from '../http/caching';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import type { PetitionView } from './petitionView';
import type { PetitionsService } from './petitionsService';
import { consentVersion } from '../signatures/consent';

export function petitionsRoutes(deps: { petitions: PetitionsService; render: Render; view: PetitionView }): Router {
  const { petitions, render, view } = deps;
  const router = Router();

  router.get('/', async (req, res) => {
    cacheable(req, res);
    const lang = res.locals.lang as Lang;
    render(req, res, 'home', { campaign: await petitions.campaign(lang), demands: await petitions.demands(lang) });
  });

  router.get('/privacy', (req, res) => {
    cacheable(req, res);
    render(req, res, 'privacy', { consentVersion });
  });

  // Counts for widgets and scripts: cacheable, no personal data.
  router.get('/petitions/:slug.json', async (req, res) => {
    cacheableData(req, res);
    const page = await petitions.page(req.params.slug, 'en');
    if (!page) throw notFound();
    res.set('Access-Control-Allow-Origin', '*');
    res.json({
      slug: page.petition.slug,
      title: page.petition.title,
      state: page.petition.state,
      count: page.count,
      goal: page.petition.goal,
      countsByCountry: Object.fromEntries(page.countryCounts.map((c) => [c.country, c.count])),
    });
  });

  router.get('/petitions/:slug', async (req, res) => {
    cacheable(req, res);
    const page = await petitions.page(req.params.slug, res.locals.lang as Lang);
    if (!page) throw notFound();
    await view.show(req, res, page);
  });

  return router;
}
