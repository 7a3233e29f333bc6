import type { i18n } from 'i18next';
import type { Views } from '../views/views';
import { listUnsubscribeHeaders } from './listUnsubscribe';
import type { OutgoingMail } from './mailer';
import type { OutboxRow } from './outboxRepository';

export type MailRenderer = (row: OutboxRow) => OutgoingMail | Promise<OutgoingMail>;

/** Renders one template's mail itself (a digest with its attachment, say); the default covers the rest. */
export type CustomRenderers = Record<string, MailRenderer>;

/**
 * Mail is rendered when it is sent, not when it is queued, to keep the signing path light. Mail with
 * an unsubscribe link carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click).
 */
export function createMailRenderer(
  views: Views,
  i18n: i18n,
  mailFrom: string,
  baseUrl: string,
  custom: CustomRenderers = {},
): MailRenderer {
  return (row) => {
    const own = custom[row.template];
    if (own) return own(row);
    const context = { ...row.params, lang: row.locale, baseUrl };
    const { html, text } = views.email(row.template, context);
    const unsubscribeUrl = row.params.unsubscribeUrl;
    const headers = listUnsubscribeHeaders(typeof unsubscribeUrl === 'string' ? unsubscribeUrl : undefined);
    const replyTo = row.params.replyTo;
    // A feature whose texts live in its own locale file names its subject's key (default: email.<template>.subject).
    const subjectKey =
      typeof row.params.subjectKey === 'string' ? row.params.subjectKey : `email.${row.template}.subject`;
    return {
      from: mailFrom,
      to: row.recipient,
      replyTo: typeof replyTo === 'string' ? replyTo : undefined,
      subject: i18n.t(subjectKey, { ...row.params, lng: row.locale }) as string,
      html,
      text,
      messageId: row.messageId,
      headers,
    };
  };
}
