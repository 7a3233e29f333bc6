import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import { changes, type AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { notFound } from '../../errors';
import type { Lang } from '../../i18n/i18n';
import type { PetitionsService } from '../../petitions/petitionsService';
import { targetKinds } from '../../targets/targetsRepository';
import { parseTargetForm, type TargetErrors, type TargetFormValues, type TargetsService } from './targetsService';

const targetFields = [
  'name',
  'kind',
  'country',
  'languages',
  'email',
  'website',
  'postalAddress',
  'forcePost',
] as const;

export function targetsRoutes(deps: {
  targets: TargetsService;
  petitions: PetitionsService;
  audit: AuditLog;
  render: AdminRender;
}): Router {
  const { targets, petitions, audit, render } = deps;
  const router = Router();
  const organiserId = (res: Response) => currentOrganiser(res)!.id;

  async function renderIndex(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) {
    render(
      req,
      res,
      'targets/index',
      {
        titleKey: 'admin.targets.title',
        section: 'targets',
        targets: await targets.list(),
        withoutAddress: (await targets.countriesWithoutAddress()).map((code) => ({ code })),
        ...extra,
      },
      status,
    );
  }

  async function renderForm(
    req: Request,
    res: Response,
    id: number | undefined,
    values: TargetFormValues,
    errors: TargetErrors = {},
    status = 200,
  ) {
    const choices = await petitions.countryChoices(res.locals.lang as Lang);
    render(
      req,
      res,
      'targets/form',
      {
        titleKey: id === undefined ? 'admin.targets.newTitle' : 'admin.targets.editTitle',
        section: 'targets',
        id,
        values,
        fields: errorList(errors, targetFields),
        kinds: targetKinds.map((kind) => ({ kind, selected: kind === values.kind })),
        countries: [...choices.nato, ...choices.others].map((c) => ({ ...c, selected: c.code === values.country })),
      },
      status,
    );
  }

  router.get('/targets', requireRole('viewer'), (req, res) => renderIndex(req, res));

  router.get('/targets.csv', requireRole('viewer'), async (req, res) => {
    await audit.record({ organiserId: organiserId(res), action: 'targets.export' });
    const date = new Date().toISOString().slice(0, 10);
    res.set('Content-Disposition', `attachment; filename="targets-${date}.csv"`);
    res.type('text/csv; charset=utf-8').send(`\uFEFF${await targets.exportCsv()}`);
  });

  router.post('/targets/import', requireRole('organiser'), async (req, res) => {
    const file = (req.body as Record<string, unknown> | undefined)?.file;
    if (typeof file !== 'string' || file.trim() === '') {
      return renderIndex(
        req,
        res,
        { hasErrors: true, importErrors: [{ line: 0, messageKey: 'admin.targets.errors.csvMissing' }] },
        400,
      );
    }
    const result = await targets.importCsv(file);
    if (!result.ok) return renderIndex(req, res, { hasErrors: true, importErrors: result.errors }, 400);
    await audit.record({
      organiserId: organiserId(res),
      action: 'targets.import',
      details: { created: result.created, updated: result.updated },
    });
    res.redirect(303, `/admin/targets?notice=targetsImported&n=${result.created + result.updated}`);
  });

  const blank: TargetFormValues = {
    kind: 'nato_delegation',
    country: '',
    name: '',
    languages: '',
    email: '',
    website: '',
    postalAddress: '',
    forcePost: false,
  };

  router.get('/targets/new', requireRole('organiser'), (req, res) => renderForm(req, res, undefined, blank));

  router.post('/targets', requireRole('organiser'), async (req, res) => {
    const values = parseTargetForm(req.body);
    const result = await targets.save(undefined, values);
    if (!result.ok) return renderForm(req, res, undefined, values, result.errors, 400);
    const { name, ...saved } = (await targets.valuesOf(result.id))!;
    await audit.record({ organiserId: organiserId(res), action: 'target.create', subject: name, details: saved });
    res.redirect(303, '/admin/targets?notice=targetSaved');
  });

  const idOf = async (req: Request) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || !(await targets.find(id))) throw notFound();
    return id;
  };

  router.get('/targets/:id/edit', requireRole('organiser'), async (req, res) => {
    const id = await idOf(req);
    return renderForm(req, res, id, (await targets.valuesOf(id))!);
  });

  router.post('/targets/:id', requireRole('organiser'), async (req, res) => {
    const id = await idOf(req);
    const values = parseTargetForm(req.body);
    const before = (await targets.valuesOf(id))!;
    const result = await targets.save(id, values);
    if (!result.ok) return renderForm(req, res, id, values, result.errors, 400);
    // Named as it is now; what changed, each field before → after, as saved.
    const after = (await targets.valuesOf(id))!;
    await audit.record({
      organiserId: organiserId(res),
      action: 'target.update',
      subject: after.name,
      details: changes(before, after),
    });
    res.redirect(303, '/admin/targets?notice=targetSaved');
  });

  return router;
}
