import { Router } from 'express';
import type { i18n } from 'i18next';
import { notFound } from '../errors';
import { cacheable, cacheableData, keptNoLaterThan, sendPrepared } from '../http/caching';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import { closingFields, openUntil } from './closingDate';
import type { PetitionView } from './petitionView';
import type { PetitionsService } from './petitionsService';
import { consentVersion } from '../signatures/consent';
import { createPetitionMaps } from '../map/petitionMap';

export function petitionsRoutes(deps: {
  petitions: PetitionsService;
  render: Render;
  view: PetitionView;
  i18n: i18n;
  /** How long a count may be kept by caches (COUNT_REFRESH_SECONDS). */
  countRefreshSeconds: number;
}): Router {
  const { petitions, render, view } = deps;
  const refresh = deps.countRefreshSeconds;
  const router = Router();
  const petitionMap = createPetitionMaps(deps.i18n);

  router.get('/', async (req, res) => {
    cacheable(req, res);
    const lang = res.locals.lang as Lang;
    const demands = await petitions.demands(lang);
    const closing = demands.filter((d) => d.petitionState === 'open' && d.closesAt !== null).map((d) => d.closesAt!);
    keptNoLaterThan(res, closing.length > 0 ? Math.min(...closing) : null, petitions.now(), refresh);
    render(req, res, 'home', { campaign: await petitions.campaign(lang), demands });
  });

  router.get('/privacy', (req, res) => {
    cacheable(req, res);
    render(req, res, 'privacy', { consentVersion });
  });

  // Closed petitions, newest closed first (a path no petition can take: 'archive' is a reserved slug).
  router.get('/petitions/archive', async (req, res) => {
    cacheable(req, res);
    const lang = res.locals.lang as Lang;
    render(req, res, 'petitions/archive', {
      title: deps.i18n.t('archive.title', { lng: lang }),
      petitions: await petitions.archive(lang),
    });
  });

  // Counts for widgets and scripts: cacheable, no personal data.
  router.get('/petitions/:slug.json', async (req, res) => {
    cacheableData(req, res);
    const page = await petitions.page(req.params.slug, 'en');
    if (!page) throw notFound();
    keptNoLaterThan(res, openUntil(page.petition), petitions.now(), refresh);
    res.set('Access-Control-Allow-Origin', '*');
    res.json({
      slug: page.petition.slug,
      title: page.petition.title,
      state: page.petition.state,
      ...closingFields(page.petition),
      count: page.count,
      goal: page.petition.goal,
      countsByCountry: Object.fromEntries(page.countryCounts.map((c) => [c.country, c.count])),
    });
  });

  // The signatures-by-country map, an image the petition page and the dashboard show beside their table.
  router.get('/petitions/:slug/map.svg', async (req, res) => {
    const lang = res.locals.lang as Lang;
    const page = await petitions.page(req.params.slug, lang);
    if (!page) throw notFound();
    const map = petitionMap(page.petition.slug, lang, page.countryCounts);
    cacheable(req, res);
    sendPrepared(res, map, 'image/svg+xml');
  });

  router.get('/petitions/:slug', async (req, res) => {
    cacheable(req, res);
    const page = await petitions.page(req.params.slug, res.locals.lang as Lang);
    if (!page) throw notFound();
    keptNoLaterThan(res, openUntil(page.petition), petitions.now(), refresh);
    await view.show(req, res, page);
  });

  return router;
}
