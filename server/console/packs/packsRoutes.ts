import { Router, type Request, type Response } from 'express';
import { errorList, type AdminRender } from '../../admin/adminRender';
import type { AuditLog } from '../../admin/auditLog';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { notFound } from '../../errors';
import type { Lang } from '../../i18n/i18n';
import {
  handInHows,
  parseRecordForm,
  readRecordForm,
  recordFields,
  type RecordErrors,
  type RecordFormValues,
} from '../../packs/packForm';
import type { PackRow } from '../../packs/packsRepository';
import type { PacksService } from '../../packs/packsService';
import { formatDay, isoMinute } from '../../time/dates';

/** Messages after a redirect, named in `?done=` (none carries personal data). A record says how the pack went. */
const notices = new Set([
  ...handInHows.map((how) => `recorded-${how}`),
  'already',
  'undone',
  'tooLate',
  'notRecorded',
  'pdfUnavailable',
]);
/** When a pack was made or recorded, in Brussels (where it is handed in). */
const minute = (ms: number | null) => (ms === null ? '' : isoMinute(ms));

/** The error summary of one pack's record form: its links point at that form's fields. */
function summaryOf(id: number, errors: RecordErrors) {
  const summary = errorList(errors, recordFields);
  return { ...summary, errorList: summary.errorList.map((e) => ({ ...e, field: `${e.field}-${id}` })) };
}

/**
 * The "Hand-in packs" page: the packs due per delegation (download their PDF and CSV, record them as
 * handed in or posted) and those recorded (undo within 24 hours). Everyone in the console sees the
 * list (it holds counts, no one's data); downloads hold signers' names, so like exports they are for
 * organisers, who alone record and undo. Every download, record and undo is audited.
 */
export function packsRoutes(deps: { packs: PacksService; audit: AuditLog; render: AdminRender }): Router {
  const { packs, audit, render } = deps;
  const router = Router();
  const organiserId = (res: Response) => currentOrganiser(res)!.id;

  async function renderPage(
    req: Request,
    res: Response,
    form?: { id: number; values: RecordFormValues; errors: RecordErrors },
    status = 200,
  ) {
    const done = typeof req.query.done === 'string' && notices.has(req.query.done) ? req.query.done : undefined;
    const lang = res.locals.lang as Lang;
    const row = (p: PackRow) => {
      const mine = form?.id === p.id;
      return {
        ...p,
        created: minute(p.createdAt),
        handedIn: p.handedInAt === null ? '' : formatDay(p.handedInAt, lang),
        recorded: minute(p.recordedAt),
        howKey: p.handedInHow ? `packs.how.${p.handedInHow}` : undefined,
        shaShort: p.csvSha256?.slice(0, 12),
        undoable: packs.undoable(p),
        values: mine ? form.values : { date: '', how: '', reference: '', note: '' },
        errors: mine ? form.errors : {},
        hows: handInHows.map((how) => ({
          how,
          labelKey: `packs.how.${how}`,
          selected: mine && form.values.how === how,
        })),
      };
    };
    const delegations = (await packs.byDelegation(lang)).map((d) => ({
      ...d,
      due: d.due.map(row),
      recorded: d.recorded.map(row),
    }));
    render(
      req,
      res,
      'packs',
      {
        titleKey: 'packs.admin.title',
        section: 'packs',
        delegations,
        doneKey: done ? `packs.admin.notices.${done}` : undefined,
        fields: form ? summaryOf(form.id, form.errors) : undefined,
      },
      status,
    );
  }

  const packOf = async (req: Request): Promise<PackRow> => {
    const id = Number(req.params.id);
    const pack = Number.isSafeInteger(id) && id > 0 ? await packs.find(id) : undefined;
    if (!pack) throw notFound();
    return pack;
  };

  router.get('/packs', requireRole('viewer'), (req, res) => renderPage(req, res));

  router.get('/packs/:id/csv', requireRole('organiser'), async (req, res) => {
    const pack = await packOf(req);
    await audit.record({
      organiserId: organiserId(res),
      action: 'pack.download',
      subject: `pack ${pack.id}`,
      details: { format: 'csv', target: pack.target, petition: pack.petition },
    });
    res.status(200);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="${packs.filename(pack, 'csv')}"`);
    await packs.writeCsv(pack.id, res);
    res.end();
  });

  router.get('/packs/:id/pdf', requireRole('organiser'), async (req, res) => {
    const pack = await packOf(req);
    if (!(await packs.pdfAvailable())) return res.redirect(303, '/admin/packs?done=pdfUnavailable');
    await audit.record({
      organiserId: organiserId(res),
      action: 'pack.download',
      subject: `pack ${pack.id}`,
      details: { format: 'pdf', target: pack.target, petition: pack.petition },
    });
    res.status(200);
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `attachment; filename="${packs.filename(pack, 'pdf')}"`);
    await packs.writePdf(pack.id, res);
    res.end();
  });

  router.post('/packs/:id/record', requireRole('organiser'), async (req, res) => {
    const pack = await packOf(req);
    const values = readRecordForm(req.body);
    const parsed = parseRecordForm(values, packs.now());
    if (!parsed.ok) return renderPage(req, res, { id: pack.id, values, errors: parsed.errors }, 400);
    const outcome = await packs.record(pack.id, parsed.handIn, organiserId(res));
    if (outcome.status === 'recorded') {
      await audit.record({
        organiserId: organiserId(res),
        action: 'pack.record',
        subject: `pack ${pack.id}`,
        details: {
          target: pack.target,
          petition: pack.petition,
          date: values.date,
          how: parsed.handIn.how,
          reference: parsed.handIn.reference,
          note: parsed.handIn.note,
          signatures: pack.signatures,
          letters: outcome.letters,
        },
      });
    }
    const done = outcome.status === 'recorded' ? `recorded-${parsed.handIn.how}` : 'already';
    res.redirect(303, `/admin/packs?done=${done}`);
  });

  router.post('/packs/:id/undo', requireRole('organiser'), async (req, res) => {
    const pack = await packOf(req);
    const outcome = await packs.undo(pack.id);
    await audit.record({
      organiserId: organiserId(res),
      action: outcome.status === 'undone' ? 'pack.undo' : 'pack.undo.refused',
      subject: `pack ${pack.id}`,
      details: { target: pack.target, petition: pack.petition, outcome: outcome.status },
    });
    res.redirect(303, `/admin/packs?done=${outcome.status}`);
  });

  return router;
}
