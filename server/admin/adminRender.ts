import type { Request, Response } from 'express';
import type { i18n } from 'i18next';
import type { Render } from '../http/render';
import { currentOrganiser } from './requireRole';
import { hasRole } from './roles';

/** Messages shown after a redirect (post/redirect/get), named in `?notice=`; none carries personal data. */
const notices = new Set([
  'loggedOut',
  'petitionCreated',
  'petitionSaved',
  'petitionOpened',
  'petitionClosed',
  'demandSaved',
  'targetSaved',
  'targetsImported',
  'invalidated',
  'erased',
  'retentionRun',
  'accountCreated',
  'accountSaved',
  'responseSaved',
  'responseDeleted',
]);

const keys = (prefix: string, names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, `${prefix}.${name}`]));

// i18n keys by value, for templates to `lookup`.
const labelKeys = {
  roleKeys: keys('admin.roles', ['viewer', 'organiser', 'admin']),
  kindKeys: keys('admin.kinds', ['nato_delegation', 'parliamentary_assembly', 'minister']),
  stateKeys: keys('admin.states', ['pending', 'validated', 'fraudulent', 'invalidated']),
  exportStateKeys: keys('admin.states', ['pending', 'validated', 'fraudulent', 'invalidated', 'all']),
};

export type AdminRender = (
  req: Request,
  res: Response,
  page: string,
  context?: Record<string, unknown>,
  status?: number,
) => void;

/**
 * Renders views/pages/admin/<page>.hbs with what every console page needs: the organiser and what
 * their role lets them see, the notice after a redirect, the page title from `titleKey`, and a CSRF
 * token (every page has the logout form).
 */
export function createAdminRender(render: Render, i18n: i18n): AdminRender {
  return (req, res, page, context = {}, status = 200) => {
    const titleKey = typeof context.titleKey === 'string' ? context.titleKey : undefined;
    const organiser = currentOrganiser(res);
    const notice = typeof req.query.notice === 'string' && notices.has(req.query.notice) ? req.query.notice : '';
    const n = typeof req.query.n === 'string' && /^\d{1,9}$/.test(req.query.n) ? Number(req.query.n) : 0;
    render(
      req,
      res,
      `admin/${page}`,
      {
        ...labelKeys,
        form: true,
        organiser,
        canEdit: organiser ? hasRole(organiser.role, 'organiser') : false,
        isAdmin: organiser ? hasRole(organiser.role, 'admin') : false,
        noticeKey: notice ? `admin.notices.${notice}` : undefined,
        noticeCount: n,
        title: titleKey
          ? `${i18n.t(titleKey, { lng: res.locals.lang as string })} – ${i18n.t('admin.console', { lng: res.locals.lang as string })}`
          : undefined,
        ...context,
      },
      status,
    );
  };
}

/** The error summary at the top of a form, in the order of the fields on the page. */
export function errorList(errors: Record<string, string | undefined>, order: readonly string[]) {
  const list = order.filter((field) => errors[field]).map((field) => ({ field, messageKey: errors[field]! }));
  return { errors, errorList: list, hasErrors: list.length > 0 };
}

/** Where to go after logging in: only a page of the console, never another site. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(?:[/?][^\\\s]*)?$/.test(value) && !value.includes('//')
    ? value
    : '/admin';
}
