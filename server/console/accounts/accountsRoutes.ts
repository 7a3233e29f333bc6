import { Router, type Request, type Response } from 'express';
import type { i18n } from 'i18next';
import { notFound } from '../../errors';
import { errorList, type AdminRender } from '../../admin/adminRender';
import type { AccountErrors, AccountsService } from '../../admin/accountsService';
import type { AuditLog } from '../../admin/auditLog';
import { describeAudit } from './auditView';
import { currentOrganiser, requireRole } from '../../admin/requireRole';
import { isRole, roles } from '../../admin/roles';

const accountFields = ['email', 'password', 'role'] as const;

/** Accounts and the audit log: admins only. */
export function accountsRoutes(deps: {
  accounts: AccountsService;
  audit: AuditLog;
  render: AdminRender;
  i18n: i18n;
}): Router {
  const { accounts, audit, render } = deps;
  const router = Router();
  const admin = requireRole('admin');

  async function renderAccounts(
    req: Request,
    res: Response,
    values = { email: '', role: 'organiser' },
    errors: AccountErrors = {},
    status = 200,
  ) {
    const me = currentOrganiser(res)!;
    render(
      req,
      res,
      'accounts',
      {
        titleKey: 'admin.accounts.title',
        section: 'accounts',
        accounts: (await accounts.list()).map((a) => ({
          id: a.id,
          email: a.email,
          role: a.role,
          disabled: a.disabled,
          locked: accounts.isLocked(a),
          createdAt: a.createdAt,
          self: a.id === me.id,
          roles: roles.map((r) => ({ role: r, selected: r === a.role })),
        })),
        values,
        roles: roles.map((r) => ({ role: r, selected: r === values.role })),
        fields: errorList(errors, accountFields),
      },
      status,
    );
  }

  router.get('/accounts', admin, (req, res) => renderAccounts(req, res));

  router.post('/accounts', admin, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const str = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
    const input = { email: str('email').trim(), password: str('password'), role: str('role') };
    const result = await accounts.create(input);
    if (!result.ok) return renderAccounts(req, res, { email: input.email, role: input.role }, result.errors, 400);
    await audit.record({
      organiserId: currentOrganiser(res)!.id,
      action: 'account.create',
      subject: input.email.toLowerCase(),
      details: { role: input.role },
    });
    res.redirect(303, '/admin/accounts?notice=accountCreated');
  });

  // Role, disabled and unlock. An admin cannot change their own account here, so the console can
  // never be left without one.
  router.post('/accounts/:id', admin, async (req, res) => {
    const id = Number(req.params.id);
    const account = Number.isInteger(id) ? await accounts.find(id) : undefined;
    if (!account || account.id === currentOrganiser(res)!.id) throw notFound();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const changes: Record<string, unknown> = {};
    if (isRole(body.role) && body.role !== account.role) {
      await accounts.setRole(id, body.role);
      changes.role = { from: account.role, to: body.role };
    }
    const disabled = body.disabled === 'on';
    if (disabled !== account.disabled) {
      await accounts.setDisabled(id, disabled);
      changes.disabled = { from: account.disabled, to: disabled };
    }
    if (body.unlock === 'on') {
      await accounts.unlock(id);
      changes.unlocked = true;
    }
    await audit.record({
      organiserId: currentOrganiser(res)!.id,
      action: 'account.update',
      subject: account.email,
      details: changes,
    });
    res.redirect(303, '/admin/accounts?notice=accountSaved');
  });

  router.get('/audit', admin, async (req, res) => {
    const before = Number(req.query.before);
    const limit = 100;
    const entries = await audit.list({ before: Number.isInteger(before) && before > 0 ? before : undefined, limit });
    render(req, res, 'audit', {
      titleKey: 'admin.audit.title',
      section: 'audit',
      entries: describeAudit(entries, deps.i18n, res.locals.lang as string),
      older: entries.length === limit ? entries[entries.length - 1]!.id : undefined,
    });
  });

  return router;
}
