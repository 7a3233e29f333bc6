import type { Request, Response } from 'express';
import { languages, type Lang } from '../i18n/i18n';
import type { Views } from '../views/views';

const languageNames: Record<Lang, string> = { en: 'English', fr: 'Français' };

/**
 * A page may give `languagePath` in its context: the canonical address its language links build on,
 * instead of the address asked for.
 */
export interface Render {
  (req: Request, res: Response, page: string, context?: Record<string, unknown>, status?: number): void;
  /** The page as a string, for a caller that caches it; nothing is sent. */
  html(req: Request, res: Response, page: string, context?: Record<string, unknown>): string;
}

/**
 * The address asked for, as a path on this site without any `lang` parameter (there may be several),
 * for the language links. The path is the one Express routed on, never the request target as
 * written: an absolute-form target (`GET http://evil.example//x`) names a host, and `//evil.example`
 * (or `/\\evil.example`) would be read by a browser as one.
 */
function withoutLang(req: Request): string {
  const path = '/' + (req.baseUrl + req.path).replace(/^[/\\]+/, '');
  const mark = req.originalUrl.indexOf('?');
  if (mark < 0) return path;
  const params = new URLSearchParams(req.originalUrl.slice(mark + 1));
  params.delete('lang');
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** A form shown again with its errors: `hasErrors` on the page, its `form` or its console `fields`. */
function showsErrors(context: Record<string, unknown>): boolean {
  const has = (value: unknown) =>
    typeof value === 'object' && value !== null && (value as { hasErrors?: unknown }).hasErrors === true;
  return context.hasErrors === true || has(context.form) || has(context.fields);
}

/**
 * Renders a page with what every page needs: the language and its switch, the console's CSRF token
 * (for console pages, which ask for it with `form`; public pages have none), and the page's context.
 */
export function createRender(views: Views, options: { baseUrl: string; devMailbox: boolean }): Render {
  const html: Render['html'] = (req, res, page, context = {}) => {
    const lang = res.locals.lang as Lang;
    const path = typeof context.languagePath === 'string' ? context.languagePath : withoutLang(req);
    const sep = path.includes('?') ? '&' : '?';
    return views.page(page, {
      lang,
      baseUrl: options.baseUrl,
      devMailbox: options.devMailbox,
      languageSwitch: languages
        .filter((l) => l !== lang)
        .map((l) => ({ lang: l, label: languageNames[l], href: `${path}${sep}lang=${l}` })),
      ...context,
      // GOV.UK's pattern: a screen reader hears "Error:" first, before anything else on the page.
      errorTitle: showsErrors(context),
      // The login form brings its own (it has no session yet).
      csrfToken: context.csrfToken ?? (context.form ? req.csrfToken?.() : undefined),
    });
  };
  const render = ((req, res, page, context = {}, status = 200) => {
    res
      .status(status)
      .type('html')
      .send(html(req, res, page, context));
  }) as Render;
  render.html = html;
  return render;
}
