import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { keepPrepared } from './replay';

/**
 * How public pages are kept by browsers, proxies and CDNs (DESIGN, "Cacheable public pages"): for
 * the count refresh interval, then served stale while one request refreshes them (2×), or while the
 * app is failing (5×).
 */
export function publicCacheControl(seconds: number): string {
  return `public, max-age=${seconds}, stale-while-revalidate=${2 * seconds}, stale-if-error=${5 * seconds}`;
}

/** A strong validator: a hash of the exact bytes (the app's `etag` setting, and prepared pages'). */
export function strongEtag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** A page rendered once and served as is to everyone: its bytes and their ETag. */
export interface Prepared {
  body: Buffer;
  etag: string;
}

export function prepare(html: string): Prepared {
  const body = Buffer.from(html);
  return { body, etag: strongEtag(body) };
}

/** Sends prepared bytes, or 304 when the client already holds them (If-None-Match). */
export function sendPrepared(res: Response, page: Prepared, type = 'text/html; charset=utf-8'): void {
  res.set('Content-Type', type);
  res.set('ETag', page.etag);
  // res.send answers 304 itself when the request is fresh, and leaves out the body on HEAD.
  res.send(page.body);
  // The whole answer, for the next requests that would get it again (replay.ts).
  keepPrepared(res.req, res, page);
}

const cacheControlOf = (req: Request): string =>
  (req.app.locals.publicCacheControl as string | undefined) ?? publicCacheControl(10);

/**
 * A public page: the same bytes for everyone who asks for this address in this language, kept for
 * the interval (`app.locals.publicCacheControl`, set by createApp). The language comes from `?lang=`,
 * the `lang` cookie or Accept-Language, so the answer varies on both headers (with `?lang=` too:
 * the cookie is set only for a visitor who does not have it yet).
 * A handler that answers something private after all (an error, a form with a visitor's values)
 * must say `no-store`; the error handler does.
 */
export function cacheable(req: Request, res: Response): void {
  res.set('Cache-Control', shareable(res) ? cacheControlOf(req) : 'private, no-cache');
  res.vary('Accept-Language').vary('Cookie');
}

/**
 * Whether an answer may be kept for others: not when it sets a cookie (a visitor's first `?lang=`
 * sets the language cookie), which a shared cache could otherwise hand to everyone.
 */
const shareable = (res: Response): boolean => !res.getHeader('Set-Cookie');

/** Public data the same in every language (JSON for widgets and scripts): kept like the pages. */
export function cacheableData(req: Request, res: Response): void {
  res.set('Cache-Control', shareable(res) ? cacheControlOf(req) : 'private, no-cache');
}

/** Answers to POSTs (results, forms re-rendered with what a visitor typed) are nobody else's. */
export const noStoreUnlessSafe: RequestHandler = (req, res, next) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') res.set('Cache-Control', 'no-store');
  next();
};

/**
 * An answer that changes at a known time (an open petition at its closing time) is kept by no cache
 * past that time: near it, the public Cache-Control gives way to a max-age that ends before it, and
 * no stale serving (stale-while-revalidate and stale-if-error could otherwise stretch the interval
 * up to 6×). `seconds` is the interval the usual header allows.
 */
export function keptNoLaterThan(res: Response, at: number | null | undefined, now: number, seconds: number): void {
  if (at === null || at === undefined || at - now >= 6 * seconds * 1000) return;
  if (!shareable(res)) return; // the visitor's own answer (it sets a cookie) stays private
  const left = Math.max(0, Math.floor((at - now) / 1000));
  res.set('Cache-Control', `public, max-age=${Math.min(left, seconds)}, must-revalidate`);
}
