import type { Lang } from '../i18n/i18n';
import { newMessageId } from './mailer';
import type { OutboxRepository } from './outboxRepository';

export interface QueuedMail {
  kind: string;
  to: string;
  /** templates/email/<template>.{html,text}.hbs, with its subject at email.<template>.subject. */
  template: string;
  params: Record<string, unknown>;
  locale: Lang;
}

export type Outbox = ReturnType<typeof createOutbox>;

/** The one way to send mail: a row written in the caller's transaction, sent later by the sender. */
export function createOutbox(repo: OutboxRepository, mailFrom: string, clock: () => number = Date.now) {
  return {
    enqueue(mail: QueuedMail): { id: number; messageId: string } {
      const messageId = newMessageId(mailFrom);
      const id = repo.enqueue({
        kind: mail.kind,
        recipient: mail.to,
        template: mail.template,
        params: mail.params,
        locale: mail.locale,
        messageId,
        now: clock(),
      });
      return { id, messageId };
    },
  };
}
