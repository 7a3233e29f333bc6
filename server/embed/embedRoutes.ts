import fs from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';
import type { i18n } from 'i18next';
import { appRoot } from '../config';
import { notFound } from '../errors';
import { cacheable, cacheableData, keptNoLaterThan, prepare, sendPrepared } from '../http/caching';
import type { Render } from '../http/render';
import { isLang, type Lang } from '../i18n/i18n';
import type { PetitionView } from '../petitions/petitionView';
import { openUntil } from '../petitions/closingDate';
import type { PetitionsService } from '../petitions/petitionsService';
import { numberFormat } from '../views/helpers/formatNumber';
import { badgeSvg } from './badge';

/**
 * The pages other sites may frame (app.ts's CSP), whose language no cookie remembers. In any case:
 * the router matches paths regardless of case, so `/Embed/…` is the same page and needs its headers.
 */
export const isEmbedPath = (path: string) => path.toLowerCase().startsWith('/embed/');

/** Fetched by other sites' pages (a script, an image): allowed to be, against helmet's same-origin default. */
const crossOriginResource = (res: Response) => res.set('Cross-Origin-Resource-Policy', 'cross-origin');

/** The snippet changes rarely: partners' pages keep it an hour, then ask again (ETag, 304). */
const scriptCacheControl = 'public, max-age=3600, stale-while-revalidate=86400';

/**
 * What other sites show of a petition: its sign form in their frame (/embed/…, which they may frame:
 * see the CSP in app.ts), the script that puts it there (/embed.js), and a counter image.
 * The sign POST from the frame is in signaturesRoutes, beside the page's.
 */
export function embedRoutes(deps: {
  petitions: PetitionsService;
  render: Render;
  view: PetitionView;
  i18n: i18n;
  /** How long a page may be kept by caches (COUNT_REFRESH_SECONDS): less, near a closing time. */
  countRefreshSeconds: number;
}) {
  const { petitions, render, view } = deps;
  const router = Router();
  const script = prepare(fs.readFileSync(path.join(appRoot, 'views', 'assets', 'embed.js'), 'utf8'));

  router.get('/embed.js', (_req, res) => {
    crossOriginResource(res);
    res.set('Cache-Control', scriptCacheControl);
    sendPrepared(res, script, 'text/javascript; charset=utf-8');
  });

  router.get('/embed/petitions/:slug', async (req, res) => {
    cacheable(req, res);
    crossOriginResource(res);
    const page = await petitions.page(req.params.slug, res.locals.lang as Lang);
    if (!page) throw notFound();
    // Its sign form must not be kept by any cache past the closing time, in partners' frames either.
    keptNoLaterThan(res, openUntil(page.petition), petitions.now(), deps.countRefreshSeconds);
    await view.show(req, res, page, 'embed');
  });

  router.get('/embed/petitions/:slug/check-email', async (req, res) => {
    cacheable(req, res);
    crossOriginResource(res);
    const page = await petitions.page(req.params.slug, res.locals.lang as Lang);
    if (!page) throw notFound();
    render(req, res, 'embed/check-email', {
      title: page.petition.title,
      petition: page.petition,
      embed: true,
      layout: 'embed',
    });
  });

  // For newsletters and READMEs: its language from ?lang= alone (an image has no visitor's choice).
  router.get('/petitions/:slug/badge.svg', async (req, res) => {
    const lang: Lang = isLang(req.query.lang) ? req.query.lang : 'en';
    const page = await petitions.page(req.params.slug, lang);
    if (!page) throw notFound();
    cacheableData(req, res);
    crossOriginResource(res);
    const t = deps.i18n.getFixedT(lang);
    const formatted = numberFormat(lang).format(page.count);
    const label = t('site.name');
    const value = t('badge.count', { count: page.count, formatted });
    const svg = badgeSvg({ label, value, title: t('badge.title', { title: page.petition.title, count: value }) });
    sendPrepared(res, prepare(svg), 'image/svg+xml; charset=utf-8');
  });

  return router;
}
