import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';

/** A fully rendered message. Recipients always come from the server's own records, never a request. */
export interface OutgoingMail {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content: string; contentType: string }>;
}

export interface SendResult {
  response: string;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<SendResult>;
  /** Resolves when mail can go out: the relay accepts a connection and our credentials (for /readyz). */
  verify?(): Promise<void>;
  /**
   * How many mails it takes at once: one on each of its pool's connections and one waiting for each,
   * so that no connection waits for its next mail. Unset, as many as it is given.
   */
  readonly concurrency?: number;
  close(): void;
}

/** What a failed send means for the outbox: try again later, give up, or stop everything (bad credentials). */
export type FailureKind = 'temporary' | 'permanent' | 'auth';

const temporaryCodes = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'ETLS']);

/**
 * A mail that cannot go out as it stands, and that trying again will not change: its addressee has
 * no address any more, or nothing is left to send. Not retried; the feature's hook decides what
 * becomes of what it carried.
 */
export class UnsendableMail extends Error {
  readonly code = 'EUNSENDABLE';
  constructor(
    message: string,
    readonly reason: 'no_address' | 'empty',
  ) {
    super(message);
    this.name = 'UnsendableMail';
  }
}

export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof UnsendableMail) return 'permanent';
  const e = error as { code?: string; responseCode?: number };
  if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534) return 'auth';
  if (typeof e.responseCode === 'number') return e.responseCode >= 500 ? 'permanent' : 'temporary';
  if (e.code && temporaryCodes.has(e.code)) return 'temporary';
  // Unknown errors (a dropped connection mid-message, say) are retried: a duplicate carries the same
  // Message-ID, a lost mail is lost for good.
  return 'temporary';
}

export function describeFailure(error: unknown): string {
  const e = error as { code?: string; response?: string; message?: string };
  return [e.code, e.response ?? e.message].filter(Boolean).join(': ').slice(0, 500);
}

/** Message-IDs are fixed when a mail is queued, so a re-send after a crash carries the same one. */
export function newMessageId(mailFrom: string): string {
  const domain = /@([^>\s]+)/.exec(mailFrom)?.[1] ?? 'undersigned.localhost';
  return `<${crypto.randomUUID()}@${domain}>`;
}

const safety = { disableFileAccess: true, disableUrlAccess: true };

function toNodemailer(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    replyTo: mail.replyTo,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: mail.messageId,
    headers: mail.headers,
    // base64 outright: nodemailer need not scan a large attachment to choose an encoding.
    attachments: mail.attachments?.map((a) => ({ ...a, contentTransferEncoding: 'base64' as const })),
    ...safety,
  };
}

/** A pooled SMTP transport: one connection pool for the whole process. */
export function smtpTransport(url: string): MailTransport {
  const maxConnections = 5;
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections,
    maxMessages: Infinity,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    ...safety,
  });
  return {
    async send(mail) {
      // The message is built whole first, and handed to the connection as one buffer: streamed as it
      // is built, each MIME part and line went to the socket as a write of its own.
      const raw = await new MailComposer(toNodemailer(mail)).compile().build();
      const info = (await transporter.sendMail({ envelope: { from: mail.from, to: mail.to }, raw, ...safety })) as {
        response?: string;
      };
      return { response: info.response ?? '' };
    },
    async verify() {
      await transporter.verify();
    },
    concurrency: maxConnections * 2,
    close: () => transporter.close(),
  };
}

export interface CapturedMail {
  id: string;
  date: string;
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  attachments?: string[];
}

/**
 * With no SMTP_URL every mail is written to a folder as a real .eml file, with a .json beside it that
 * the development mailbox at /dev/mailbox reads.
 */
export function fileTransport(dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let seq = 0;
  return {
    async send(mail) {
      const info = (await transporter.sendMail(toNodemailer(mail))) as { message: Buffer };
      fs.mkdirSync(dir, { recursive: true });
      const id = `${Date.now()}-${process.pid}-${++seq}`;
      fs.writeFileSync(path.join(dir, `${id}.eml`), info.message);
      const captured: CapturedMail = {
        id,
        date: new Date().toISOString(),
        from: mail.from,
        to: mail.to,
        replyTo: mail.replyTo,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: mail.headers ?? {},
        attachments: (mail.attachments ?? []).map((a) => a.filename),
      };
      fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(captured));
      return { response: `250 captured as ${id}.eml` };
    },
    close: () => transporter.close(),
  };
}

export function createMailTransport(options: { smtpUrl?: string; mailDir: string }): MailTransport {
  return options.smtpUrl ? smtpTransport(options.smtpUrl) : fileTransport(options.mailDir);
}
