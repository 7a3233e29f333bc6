import type { RequestHandler } from 'express';
import { isLang, languages } from './i18n';

/**
 * The page language: ?lang= (remembered in a cookie), else the cookie, else Accept-Language, else
 * English. The choice is a preference, not a state change worth a POST.
 */
export function localeMiddleware(secure: boolean): RequestHandler {
  return (req, res, next) => {
    const asked = req.query.lang;
    if (isLang(asked)) {
      res.cookie('lang', asked, { maxAge: 365 * 24 * 3600 * 1000, httpOnly: true, sameSite: 'lax', secure });
      res.locals.lang = asked;
    } else {
      const cookie = (req.cookies as Record<string, string> | undefined)?.lang;
      res.locals.lang = isLang(cookie) ? cookie : req.acceptsLanguages(...languages) || 'en';
    }
    next();
  };
}
