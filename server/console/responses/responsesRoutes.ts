import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import { changes, type AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { notFound } from '../../errors';
import { formParser } from '../../http/formParsers';
import type { Lang } from '../../i18n/i18n';
import {
  parseResponseForm,
  responseFields,
  type ResponseErrors,
  type ResponseFormValues,
} from '../../responses/responseForm';
import type { Responses } from '../../responses/responses';
import { responseChannels, type ResponseRow } from '../../responses/responsesRepository';
import { tellTheSignersHref } from './tellTheSigners';

/** The answer's forms (under /admin), for the console to mount their parser on. */
export const responseForms = ['/responses', '/responses/:id'];

/** An answer may be 10,000 characters: more than the site-wide body limit allows once encoded. */
export const responseBodyParser = formParser('128kb', 30);

/** What the audit log says of an answer: never its text, which may be long. */
function summary(row: ResponseRow) {
  return {
    delegation: row.delegation,
    about: row.petitionSlug ? `petition:${row.petitionSlug}` : `demand:${row.demandSlug ?? ''}`,
    receivedOn: row.receivedOn,
    channel: row.channel,
    link: row.link,
    public: Number(row.isPublic) === 1,
    length: row.body.length,
  };
}

export function responsesRoutes(deps: { responses: Responses; audit: AuditLog; render: AdminRender }): Router {
  const { responses, audit, render } = deps;
  const router = Router();
  const organiserId = (res: Response) => currentOrganiser(res)!.id;
  const langOf = (res: Response) => res.locals.lang as Lang;

  async function renderForm(
    req: Request,
    res: Response,
    id: number | undefined,
    values: ResponseFormValues,
    errors: ResponseErrors = {},
    status = 200,
  ) {
    const choices = await responses.choices(langOf(res));
    const row = id === undefined ? undefined : await responses.find(id, langOf(res));
    render(
      req,
      res,
      'responses/form',
      {
        titleKey: id === undefined ? 'responses.admin.newTitle' : 'responses.admin.editTitle',
        section: 'responses',
        id,
        values,
        fields: errorList(errors, responseFields),
        targets: choices.targets.map((t) => ({ ...t, selected: String(t.id) === values.target })),
        petitions: choices.petitions.map((p) => ({ ...p, value: `petition:${p.slug}` })),
        demands: choices.demands.map((d) => ({ ...d, value: `demand:${d.slug}` })),
        channels: responseChannels.map((c) => ({
          value: c,
          labelKey: `responses.channels.${c}`,
          selected: c === values.channel,
        })),
        tell: row ? tellTheSignersHref(row) : undefined,
      },
      status,
    );
  }

  router.get('/responses', requireRole('viewer'), async (req, res) => {
    const rows = await responses.list(langOf(res));
    render(req, res, 'responses/index', {
      titleKey: 'responses.admin.title',
      section: 'responses',
      responses: rows.map((row) => ({
        ...row,
        public: Number(row.isPublic) === 1,
        aboutTitle: (row.petitionSlug ? row.petitionTitle : row.demandTitle) ?? '',
        aboutKind: row.petitionSlug ? 'petition' : 'demand',
        channelKey: `responses.channels.${row.channel}`,
        tell: tellTheSignersHref(row),
      })),
    });
  });

  const blank = (): ResponseFormValues => ({
    target: '',
    about: '',
    receivedOn: '',
    channel: '',
    body: '',
    link: '',
    isPublic: true,
  });

  router.get('/responses/new', requireRole('organiser'), (req, res) => renderForm(req, res, undefined, blank()));

  router.post('/responses', requireRole('organiser'), async (req, res) => {
    const values = parseResponseForm(req.body);
    const result = await responses.save(undefined, values, organiserId(res), langOf(res));
    if (!result.ok) return renderForm(req, res, undefined, values, result.errors, 400);
    const saved = (await responses.find(result.id, 'en'))!;
    await audit.record({
      organiserId: organiserId(res),
      action: 'response.create',
      subject: String(result.id),
      details: summary(saved),
    });
    res.redirect(303, '/admin/responses?notice=responseSaved');
  });

  const rowOf = async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const row = Number.isInteger(id) ? await responses.find(id, langOf(res)) : undefined;
    if (!row) throw notFound();
    return row;
  };

  router.get('/responses/:id/edit', requireRole('organiser'), async (req, res) => {
    const row = await rowOf(req, res);
    await renderForm(req, res, row.id, responses.valuesOf(row));
  });

  router.post('/responses/:id', requireRole('organiser'), async (req, res) => {
    const before = await rowOf(req, res);
    const values = parseResponseForm(req.body);
    const result = await responses.save(before.id, values, organiserId(res), langOf(res));
    if (!result.ok) return renderForm(req, res, before.id, values, result.errors, 400);
    const after = (await responses.find(before.id, langOf(res)))!;
    await audit.record({
      organiserId: organiserId(res),
      action: 'response.update',
      subject: String(before.id),
      details: changes(summary(before), summary(after)),
    });
    res.redirect(303, '/admin/responses?notice=responseSaved');
  });

  // A second click (or a retried POST) finds it gone already: the same answer, nothing more audited.
  router.post('/responses/:id/delete', requireRole('organiser'), async (req, res) => {
    const id = Number(req.params.id);
    const row = Number.isInteger(id) ? await responses.find(id, langOf(res)) : undefined;
    if (row && (await responses.remove(row.id))) {
      await audit.record({
        organiserId: organiserId(res),
        action: 'response.delete',
        subject: String(row.id),
        details: summary(row),
      });
    }
    res.redirect(303, '/admin/responses?notice=responseDeleted');
  });

  return router;
}
