import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Tokens in paths (confirmation and unsubscribe links) are secrets: they never reach the logs, nor
 * does anything a visitor's mail client may have stuck to one (a `.`, a `)`, `%3E`), nor its dot
 * written `%2E`.
 */
export function redactPath(url: string): string {
  return url.replace(/\?.*$/, '').replace(/\/\d+(?:\.|%2e)[\w-]{27}[^/]*/gi, '/:token');
}

/** JSON lines to stdout, or to `destination` (a file path or descriptor), written asynchronously. */
export function createLogger(level: string, destination: string | number = 1): Logger {
  if (level === 'silent') return pino({ level });
  return pino({ level }, pino.destination({ dest: destination, sync: false }));
}

/**
 * A relay's answer often names the address it refused ("550 <ada@example.org>: Recipient address
 * rejected"): the logs get the answer without it. (The outbox row keeps the whole answer, beside
 * the address it already holds.)
 */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>()[\]:;,"']+@[^\s<>()[\]:;,"']+/g, '<address>');
}
