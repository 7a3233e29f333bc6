import { Router, type Request, type Response } from 'express';
import type { i18n } from 'i18next';
import { notFound } from '../errors';
import { cacheable, cacheableData } from '../http/caching';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import type { PetitionsService } from '../petitions/petitionsService';
import type { DeliveryRecord, Verification } from './deliveryRecord';

/**
 * The public delivery record: a petition's deliveries as JSON, and /verify, where anyone checks a
 * digest's or a pack's CSV by its SHA-256. The same bytes for everyone: no cookie, cacheable.
 */
export function deliveryRecordRoutes(deps: {
  petitions: PetitionsService;
  deliveryRecord: DeliveryRecord;
  render: Render;
  i18n: i18n;
  baseUrl: string;
  maxAgeSeconds: number;
}): Router {
  const { petitions, deliveryRecord, render, i18n, baseUrl } = deps;
  const router = Router();

  router.get('/petitions/:slug/deliveries.json', async (req, res) => {
    const page = await petitions.page(req.params.slug, 'en');
    if (!page) throw notFound();
    cacheableData(req, res);
    res.set('Access-Control-Allow-Origin', '*');
    res.json({
      slug: page.petition.slug,
      deliveries: page.deliveries.map((d) => ({
        batch: d.batchId,
        delegation: d.delegation,
        country: d.country,
        date: d.date,
        channel: d.channel,
        signatures: d.signatures,
        letters: d.letters,
        sha256: d.sha256,
        verifyUrl: d.shortSha ? `${baseUrl}/verify/${d.shortSha}` : null,
      })),
    });
  });

  function show(req: Request, res: Response, input: string, result: Verification | undefined) {
    const status = !result || result.kind === 'found' ? 200 : result.kind === 'malformed' ? 400 : 404;
    // In the reader's language: varies on Accept-Language and the language cookie.
    cacheable(req, res);
    render(
      req,
      res,
      'deliveries/verify',
      {
        title: i18n.t('verify.title', { lng: res.locals.lang as Lang }),
        input,
        malformed: result?.kind === 'malformed',
        hasErrors: result?.kind === 'malformed',
        unknown: result?.kind === 'unknown' ? result.sha : undefined,
        batches: result?.kind === 'found' ? result.batches : [],
      },
      status,
    );
  }

  // A GET form: nothing changes, so no token (and no cookie) is needed.
  router.get('/verify', async (req, res) => {
    const raw = typeof req.query.sha === 'string' ? req.query.sha.slice(0, 200) : '';
    if (raw.trim() === '') return show(req, res, '', undefined);
    show(req, res, raw, await deliveryRecord.verify(raw, res.locals.lang as Lang));
  });

  // The short address printed in a pack: /verify/<the first 12 hex digits of the CSV's SHA-256>.
  router.get('/verify/:sha', async (req, res) => {
    const input = req.params.sha.slice(0, 200);
    const result = await deliveryRecord.verify(input, res.locals.lang as Lang);
    // Not an address we printed, however it is written: 404, with the form to try another.
    show(req, res, input, result.kind === 'malformed' ? { kind: 'unknown', sha: input } : result);
  });

  return router;
}
