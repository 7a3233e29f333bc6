import type { i18n } from 'i18next';
import type { AuditEntry } from '../../admin/auditLog';

/** One entry as the audit page shows it: sentences and names, not codes and JSON. */
export interface AuditRow {
  id: number;
  atText: string;
  who: string;
  action: string;
  actionText: string;
  subject: string | null;
  details: Array<{ label: string; value: string }>;
}

// Values of these fields are codes with a label of their own.
const valueKeys: Record<string, string> = {
  role: 'admin.roles',
  kind: 'admin.kinds',
  reason: 'admin.audit.reasons',
};

/**
 * Describes audit entries in the reader's language: the action as words, each detail as
 * "label: value", an edit as "before → after". A code without a label (an action recorded by a newer
 * version, say) is shown as it is rather than hidden.
 */
export function describeAudit(entries: AuditEntry[], i18n: i18n, lang: string): AuditRow[] {
  const t = (key: string, options: Record<string, unknown> = {}) => i18n.t(key, { lng: lang, ...options });
  const label = (key: string, fallback: string) => (i18n.exists(key, { lng: lang }) ? t(key) : fallback);

  function value(v: unknown, field?: string): string {
    if (v === null || v === undefined || v === '') return t('admin.audit.none');
    if (typeof v === 'boolean') return t(v ? 'admin.audit.yes' : 'admin.audit.no');
    if (typeof v === 'string') return field && valueKeys[field] ? label(`${valueKeys[field]}.${v}`, v) : v;
    if (typeof v === 'number') return v.toLocaleString(lang);
    if (Array.isArray(v)) return v.length ? v.map((item) => value(item, field)).join(', ') : t('admin.audit.none');
    if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('from' in o && 'to' in o && Object.keys(o).length === 2) {
        return `${value(o.from, field)} → ${value(o.to, field)}`;
      }
      return Object.entries(o)
        .filter(([, item]) => item !== '' && item !== null && item !== undefined)
        .map(([k, item]) => `${label(`admin.audit.fields.${k}`, k)}: ${value(item, k)}`)
        .join('; ');
    }
    return String(v);
  }

  return entries.map((e) => ({
    id: e.id,
    atText: `${new Date(e.at).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    who:
      e.organiserEmail ??
      (e.commandLine ? t('admin.audit.commandLine', { who: e.commandLine }) : t('admin.audit.system')),
    action: e.action,
    // Action codes are dotted ("petition.update"); i18next reads dots as nesting.
    actionText: label(`admin.audit.actions.${e.action.replace(/\./g, '_')}`, e.action),
    subject: e.subject,
    details: Object.entries(e.details).map(([k, v]) => ({
      label: label(`admin.audit.fields.${k}`, k),
      value: value(v, k),
    })),
  }));
}
