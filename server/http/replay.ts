import type { OutgoingHttpHeaders } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Prepared } from './caching';

/**
 * The public answers served from prepared bytes (petition pages, embeds, maps, badges), replayed
 * before the rest of the middleware runs: when a viral page is read thousands of times a second,
 * the security headers, the language, the routing and the page cache give the same answer every
 * time, so it is kept whole (status, headers, bytes) and written again as it was.
 *
 * An answer is replayed only to a request that would get it again: the same address (query
 * included), the same Accept-Language and the same Cookie header (the only request headers a public
 * page varies on), while the page data it was made from is current (the petitions' version, which
 * also moves when the count refresh interval has passed) and for at most `ttlMs`. Only what a shared
 * cache may keep is kept: a 200 with the usual public Cache-Control and no Set-Cookie. An answer
 * whose Cache-Control was shortened (a closing time near) is not, nor is any other.
 */
export interface Replay {
  /** The middleware: answers from a kept answer, or marks the request so that its answer is kept. */
  serve: RequestHandler;
}

interface Kept {
  version: number;
  until: number;
  route: string;
  etag: string;
  body: Buffer;
  headers: OutgoingHttpHeaders;
  /** The same without the body's headers, for a 304. */
  notModified: OutgoingHttpHeaders;
}

/** What `serve` leaves on a request it could not answer, for `keepPrepared` to fill in. */
interface Pending {
  replay: ReplayState;
  key: string;
  version: number;
}

interface ReplayState {
  entries: Map<string, Kept>;
  clock: () => number;
  ttlMs: number;
  maxEntries: number;
  cacheControl: string;
}

const pendingKey = Symbol('replay');
const longest = { url: 512, acceptLanguage: 256, cookie: 1024 };

/** The request's key, or undefined for a request whose answer is never kept (not a GET, too long). */
function keyOf(req: Request): string | undefined {
  if (req.method !== 'GET') return undefined;
  const acceptLanguage = req.headers['accept-language'] ?? '';
  const cookie = req.headers.cookie ?? '';
  if (req.url.length > longest.url || acceptLanguage.length > longest.acceptLanguage) return undefined;
  if (cookie.length > longest.cookie) return undefined;
  return `${req.url}\n${acceptLanguage}\n${cookie}`;
}

/** If-None-Match against our strong ETag, as Express's `fresh` reads it (a no-cache request is never fresh). */
function notModified(req: Request, etag: string): boolean {
  const match = req.headers['if-none-match'];
  if (!match) return false;
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/.test(req.headers['cache-control'] ?? '')) return false;
  if (match.trim() === '*') return true;
  return match.split(',').some((tag) => {
    const t = tag.trim();
    return t === etag || t === `W/${etag}`;
  });
}

export function createReplay(options: {
  /** Changes whenever the data of a kept answer may have changed (PetitionsService.version). */
  version: () => number;
  /** The public Cache-Control (publicCacheControl): only answers with exactly this header are kept. */
  cacheControl: string;
  ttlMs?: number;
  maxEntries?: number;
  clock?: () => number;
}): Replay {
  const state: ReplayState = {
    entries: new Map(),
    clock: options.clock ?? Date.now,
    ttlMs: options.ttlMs ?? 1000,
    maxEntries: options.maxEntries ?? 500,
    cacheControl: options.cacheControl,
  };

  const serve: RequestHandler = (req, res, next) => {
    const key = keyOf(req);
    if (key === undefined) return next();
    const version = options.version();
    const kept = state.entries.get(key);
    if (kept && kept.version === version && state.clock() < kept.until) {
      res.locals.replayedRoute = kept.route;
      if (notModified(req, kept.etag)) {
        res.writeHead(304, kept.notModified);
        res.end();
      } else {
        res.writeHead(200, kept.headers);
        res.end(kept.body);
      }
      return;
    }
    if (kept) state.entries.delete(key);
    (res.locals as Record<symbol, Pending>)[pendingKey] = { replay: state, key, version };
    next();
  };

  return { serve };
}

/**
 * Called once prepared bytes were sent (sendPrepared): keeps the whole answer for the requests
 * `serve` would answer the same, if a shared cache could keep it too.
 */
export function keepPrepared(req: Request, res: Response, page: Prepared): void {
  const pending = (res.locals as Record<symbol, Pending | undefined>)[pendingKey];
  if (!pending || res.statusCode !== 200 || req.method !== 'GET') return;
  const { replay, key, version } = pending;
  if (res.getHeader('Set-Cookie') !== undefined) return;
  if (res.getHeader('Cache-Control') !== replay.cacheControl) return;
  const headers = res.getHeaders();
  // A 304 carries the same headers but those of a body (as Express's own 304 does).
  const rest = { ...headers };
  for (const name of ['content-type', 'content-length', 'transfer-encoding']) delete rest[name];
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (replay.entries.size >= replay.maxEntries) replay.entries.delete(replay.entries.keys().next().value!);
  replay.entries.set(key, {
    version,
    until: replay.clock() + replay.ttlMs,
    route: typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched',
    etag: page.etag,
    body: page.body,
    headers,
    notModified: rest,
  });
}
