import { Router } from 'express';
import { shortShaLength, type DeliveryRecord } from '../deliveries/deliveryRecord';
import { HttpError } from '../errors';
import { cacheable } from '../http/caching';
import type { Render } from '../http/render';
import type { Lang } from '../i18n/i18n';
import { addressLines } from '../letters/letterChannel';
import { responsesView, type Responses } from '../responses/responses';
import { deliveryChannel, type TargetsRepository } from '../targets/targetsRepository';

const unknownDelegation = () => new HttpError(404, 'delegations.notFound.title', 'delegations.notFound.message');

/**
 * A page per delegation, /delegations/<country code in lower case>: how it is reached, what the
 * campaign delivered to it and what it answered. Public and the same for everyone: cacheable.
 */
export function delegationsRoutes(deps: {
  targets: TargetsRepository;
  deliveryRecord: DeliveryRecord;
  responses: Responses;
  render: Render;
}): Router {
  const { targets, deliveryRecord, responses, render } = deps;
  const router = Router();

  router.get('/delegations/:code', async (req, res) => {
    const code = req.params.code;
    // One address per delegation: /delegations/DE is /delegations/de.
    if (/^[A-Za-z]{2}$/.test(code) && code !== code.toLowerCase()) {
      return res.redirect(301, `/delegations/${code.toLowerCase()}`);
    }
    const target = /^[a-z]{2}$/.test(code)
      ? (await targets.forCountry(code.toUpperCase())).find((t) => t.isDefault)
      : undefined;
    if (!target) throw unknownDelegation();
    const lang = res.locals.lang as Lang;
    const deliveries = await deliveryRecord.forTarget(target.id, lang);
    const answers = await responses.forTarget(target.id, lang);
    cacheable(req, res);
    render(req, res, 'delegations/show', {
      title: target.name,
      languagePath: `/delegations/${code}`,
      target,
      address: addressLines(target.postalAddress),
      byPost: deliveryChannel(target) === 'post',
      deliveries: deliveries.map((d) => ({ ...d, shortSha: d.sha256?.slice(0, shortShaLength) ?? null })),
      answers: responsesView(answers, { showAbout: true }),
    });
  });

  return router;
}
