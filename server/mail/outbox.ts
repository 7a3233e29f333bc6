import type { Lang } from '../i18n/i18n';
import { newMessageId } from './mailer';
import type { Executor } from '../db/store';
import { insertOutboxRow } from './outboxRepository';

export interface QueuedMail {
  kind: string;
  to: string;
  /** templates/email/<template>.{html,text}.hbs, with its subject at email.<template>.subject. */
  template: string;
  params: Record<string, unknown>;
  locale: Lang;
  /** Not sent before this time (epoch ms): a mail that may still be taken back until then. */
  notBefore?: number;
  /** A Message-ID of the caller's making (unique, `<…@…>`), to find the mail again; a new one otherwise. */
  messageId?: string;
}

export type Outbox = ReturnType<typeof createOutbox>;

/** The one way to send mail: a row written in the caller's transaction, sent later by the sender. */
export function createOutbox(mailFrom: string, clock: () => number = Date.now) {
  const row = (mail: QueuedMail) => ({
    kind: mail.kind,
    recipient: mail.to,
    template: mail.template,
    params: mail.params,
    locale: mail.locale,
    messageId: mail.messageId ?? newMessageId(mailFrom),
    now: clock(),
    notBefore: mail.notBefore,
  });
  return {
    /** Queues `mail` in the transaction `tx` that causes it: sent only if that transaction commits. */
    async enqueue(tx: Executor, mail: QueuedMail): Promise<{ id: number; messageId: string }> {
      const queued = row(mail);
      return { id: await insertOutboxRow(tx, queued), messageId: queued.messageId };
    },
  };
}
