import type { RequestHandler } from 'express';
import { HttpError } from '../errors';

const tooLarge = () => new HttpError(413, 'errors.tooLarge.title', 'errors.tooLarge.message');
const unsafeNames = new Set(['__proto__', 'constructor', 'prototype']);
const badRequest = () => new HttpError(400, 'errors.badRequest.title', 'errors.badRequest.message');

/**
 * The text fields and text files of a multipart/form-data body, by field name (first one wins).
 * Enough for one small CSV upload: the whole body is held in memory, so callers keep a small limit.
 */
export function parseMultipart(body: Buffer, boundary: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const parts = body.toString('utf8').split(`--${boundary}`);
  if (parts.length < 2) throw new Error('no multipart boundary in the body');
  for (const part of parts.slice(1)) {
    if (part.startsWith('--')) break; // the closing delimiter
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) throw new Error('a multipart part without headers');
    const headers = part.slice(0, headerEnd);
    const name = /\bname="([^"]*)"/i.exec(headers)?.[1];
    if (!name || !/^[\w-]{1,50}$/.test(name) || name in fields || unsafeNames.has(name)) continue;
    fields[name] = part.slice(headerEnd + 4).replace(/\r\n$/, '');
  }
  return fields;
}

/**
 * Parses multipart/form-data POSTs (a file upload) into req.body, up to `limit` bytes: the app's
 * body parser only reads urlencoded forms. Runs before the CSRF check, which reads `_csrf` from it.
 */
export function multipartForm(limit: number): RequestHandler {
  return (req, _res, next) => {
    const match = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(
      req.headers['content-type'] ?? '',
    );
    if (req.method !== 'POST' || !match) return next();
    const boundary = (match[1] ?? match[2])!;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * 10) req.destroy(); // a client that will not stop: hang up
    });
    req.on('end', () => {
      if (size > limit) return next(tooLarge());
      try {
        req.body = parseMultipart(Buffer.concat(chunks), boundary);
      } catch {
        return next(badRequest());
      }
      next();
    });
    req.on('error', next);
  };
}
