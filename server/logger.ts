import pino, { type Logger } from 'pino';

export type { Logger };

/** Tokens in paths (confirmation and unsubscribe links) are secrets: they never reach the logs. */
export function redactPath(url: string): string {
  return url.replace(/\/\d+\.[\w-]{27}(?=\/|$|\?)/g, '/:token').replace(/\?.*$/, '');
}

export function createLogger(level: string): Logger {
  if (level === 'silent') return pino({ level });
  return pino({ level }, pino.destination({ sync: false }));
}
