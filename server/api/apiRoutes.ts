import { Router, type Response } from 'express';
import type { Executor } from '../db/store';
import { isLang, type Lang } from '../i18n/i18n';
import { keptNoLaterThan } from '../http/caching';
import { asOf, closingFields as closing, openUntil } from '../petitions/closingDate';
import type { PetitionsService } from '../petitions/petitionsService';
import { apiRepository } from './apiRepository';
import { campaign, petitionDetail, petitionList, type petitionSummary } from './apiSchemas';
import { openApiDocument } from './openapi';
import type { z } from 'zod';

/**
 * The public read API (/api/v1): the campaign, its petitions and their counts, as JSON for anyone
 * (CORS open), cacheable like the public pages, never a person's data. Answers are built through the
 * zod schemas the OpenAPI document is generated from (apiSchemas.ts), so an answer that strays from
 * the document fails loudly here rather than surprising a partner.
 */
export function apiRoutes(deps: {
  petitions: PetitionsService;
  store: Executor;
  baseUrl: string;
  /** COUNT_REFRESH_SECONDS: how long a count may be kept, here and by caches downstream. */
  countRefreshSeconds: number;
  clock?: () => number;
}): Router {
  const { petitions, baseUrl } = deps;
  const clock = deps.clock ?? Date.now;
  const repo = apiRepository(deps.store);
  const fresh = deps.countRefreshSeconds;
  const router = Router();
  const document = openApiDocument(baseUrl);

  // Per-day counts are counted from rows: kept for one count interval.
  const perDay = new Map<number, { at: number; days: Array<{ date: string; count: number }> }>();
  async function validatedPerDay(petitionId: number) {
    const hit = perDay.get(petitionId);
    if (hit && clock() - hit.at < fresh * 1000) return hit.days;
    const at = clock();
    const days = await repo.validatedPerDay(petitionId);
    if (perDay.size > 1000) perDay.clear();
    perDay.set(petitionId, { at, days });
    return days;
  }

  router.use((_req, res, next) => {
    res.set('Access-Control-Allow-Origin', '*');
    res.set(
      'Cache-Control',
      `public, max-age=${fresh}, stale-while-revalidate=${2 * fresh}, stale-if-error=${5 * fresh}`,
    );
    next();
  });

  const langOf = (query: unknown): Lang => (isLang(query) ? query : 'en');
  const petitionUrl = (slug: string) => `${baseUrl}/petitions/${slug}`;
  const apiUrl = (path: string) => `${baseUrl}/api/v1${path}`;
  const send = <T extends z.ZodType>(res: Response, schema: T, body: z.input<T>) => res.json(schema.parse(body));

  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });

  router.get('/campaign', async (req, res) => {
    const lang = langOf(req.query.lang);
    const found = await petitions.campaign(lang);
    if (!found) {
      res.status(404).json({ error: 'No campaign has been set up yet.' });
      return;
    }
    send(res, campaign, {
      title: found.title,
      intro: found.intro,
      source: found.source,
      demands: (await petitions.demands(lang)).map((d) => ({
        slug: d.slug,
        title: d.title,
        summary: d.summary,
        petition: d.petitionSlug,
        count: d.count,
      })),
      petitions: apiUrl('/petitions'),
    });
  });

  router.get('/petitions', async (req, res) => {
    const now = petitions.now();
    const rows = (await repo.petitions(langOf(req.query.lang))).map((p) => asOf(p, now));
    const closingTimes = rows.map(openUntil).filter((at): at is number => at !== null);
    keptNoLaterThan(res, closingTimes.length > 0 ? Math.min(...closingTimes) : null, now, fresh);
    send(res, petitionList, {
      petitions: rows.map((p): z.input<typeof petitionSummary> => ({
        slug: p.slug,
        title: p.title,
        demand: p.demandSlug,
        state: p.state,
        ...closing(p),
        count: Number(p.count),
        goal: p.goal,
        url: petitionUrl(p.slug),
        api: apiUrl(`/petitions/${p.slug}`),
      })),
    });
  });

  router.get('/petitions/:slug', async (req, res) => {
    const page = await petitions.page(req.params.slug, langOf(req.query.lang));
    if (!page) {
      res.status(404).json({ error: `There is no petition "${req.params.slug}".` });
      return;
    }
    const p = page.petition;
    keptNoLaterThan(res, openUntil(p), petitions.now(), fresh);
    send(res, petitionDetail, {
      slug: p.slug,
      title: p.title,
      demand: p.demandSlug,
      state: p.state,
      ...closing(p),
      count: page.count,
      goal: p.goal,
      url: petitionUrl(p.slug),
      api: apiUrl(`/petitions/${p.slug}`),
      body: p.body,
      countsByCountry: page.countryCounts.map((c) => ({ country: c.country, count: c.count })),
      validatedPerDay: await validatedPerDay(p.id),
      responses: page.responses.map((r) => ({
        country: r.country,
        delegation: r.delegation,
        date: r.date,
        channel: r.channel,
        text: r.body,
        link: r.link,
      })),
    });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'Not found. The API is described at /api/v1/openapi.json.' });
  });
  return router;
}
