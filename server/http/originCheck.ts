import type { Request, RequestHandler } from 'express';
import { HttpError } from '../errors';

export const crossOriginRefused = () => new HttpError(403, 'errors.crossOrigin.title', 'errors.crossOrigin.message');

/** Requests that change nothing: never checked. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a browser sent this request from a page of another site, by the headers it writes itself
 * and a page cannot forge: `Sec-Fetch-Site` (every browser since 2023), else `Origin`. The rule of
 * Go's net/http CrossOriginProtection, with `Origin` compared to our own public origin (BASE_URL's)
 * rather than to the Host header, which a proxy in front may rewrite:
 *
 * - `Sec-Fetch-Site: same-origin` (our own page) or `none` (typed, a bookmark) pass; `same-site` and
 *   `cross-site` are refused (a sibling subdomain is not us either).
 * - Without `Sec-Fetch-Site` (an older browser, or plain HTTP to a host that is not localhost, where
 *   browsers leave it out), an `Origin` that is not ours is refused, `null` included.
 * - With neither, the request is not a browser's cross-site form (curl, a monitor, a mail provider):
 *   it passes, as CSRF needs a victim's browser.
 */
export function isCrossOrigin(req: Request, ownOrigin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== '') return site !== 'same-origin' && site !== 'none';
  const origin = req.get('origin');
  if (origin === undefined || origin === '') return false;
  return origin !== ownOrigin;
}

/**
 * CSRF protection for the public site, with no cookie and no token, so that public pages are the
 * same bytes for every visitor and can be cached (DESIGN, "Cacheable public pages"; SECURITY 5).
 * Every POST outside the console passes through it; the console (/admin) keeps its sessions and
 * synchroniser tokens, and is left to them.
 *
 * Exempt:
 * - `/unsubscribe/<token>`: the RFC 8058 one-click unsubscribe, POSTed by mail providers from their
 *   own servers (SECURITY 5's documented exception; the token is the proof).
 * - whatever `exempt` says (a hook for routes that need their own rule). The embed form
 *   (`/embed/*`) does not need it: a form inside our iframe is a page of our origin, and
 *   `Sec-Fetch-Site` describes the request's initiator (the framed document), not the top-level
 *   page around it, so its POST arrives as `same-origin` even on a partner's site. Only a form
 *   written by the partner's own page would come as `cross-site`, and that is what is refused.
 */
export function crossOriginProtection(options: {
  baseUrl: string;
  exempt?: (req: Request) => boolean;
}): RequestHandler {
  const ownOrigin = new URL(options.baseUrl).origin;
  return (req, _res, next) => {
    if (safeMethods.has(req.method)) return next();
    const path = req.path;
    if (path === '/admin' || path.startsWith('/admin/') || path.startsWith('/unsubscribe/')) return next();
    if (options.exempt?.(req)) return next();
    next(isCrossOrigin(req, ownOrigin) ? crossOriginRefused() : undefined);
  };
}
