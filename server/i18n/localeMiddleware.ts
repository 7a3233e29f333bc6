import type { Request, RequestHandler } from 'express';
import { isLang, languages } from './i18n';

/**
 * The page language: ?lang= (remembered in a cookie, the only one a public page ever sets), else the
 * cookie, else Accept-Language, else English. The choice is a preference, not a state change worth
 * a POST.
 */
export function localeMiddleware(secure: boolean, remembers: (req: Request) => boolean = () => true): RequestHandler {
  return (req, res, next) => {
    const asked = req.query.lang;
    const cookie = (req.cookies as Record<string, string> | undefined)?.lang;
    if (isLang(asked)) {
      // Set only when it changes: the page for `?lang=` is then the same bytes, and no cookie, for
      // every visitor who already chose this language, and a cache may keep it.
      // (Not for a page in another site's frame, where the browser would keep no cookie anyway, nor
      // for an image: those carry their language in their address, and stay cacheable by everyone.)
      if (cookie !== asked && remembers(req)) {
        res.cookie('lang', asked, { maxAge: 365 * 24 * 3600 * 1000, httpOnly: true, sameSite: 'lax', secure });
      }
      res.locals.lang = asked;
    } else {
      res.locals.lang = isLang(cookie) ? cookie : req.acceptsLanguages(...languages) || 'en';
    }
    next();
  };
}
