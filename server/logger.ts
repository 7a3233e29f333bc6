import pino, { type Logger } from 'pino';

export type { Logger };

/** Tokens in paths (confirmation and unsubscribe links) are secrets: they never reach the logs. */
export function redactPath(url: string): string {
  return url.replace(/\/\d+\.[\w-]{27}(?=\/|$|\?)/g, '/:token').replace(/\?.*$/, '');
}

/** JSON lines to stdout, or to `destination` (a file path or descriptor), written asynchronously. */
export function createLogger(level: string, destination: string | number = 1): Logger {
  if (level === 'silent') return pino({ level });
  return pino({ level }, pino.destination({ dest: destination, sync: false }));
}
