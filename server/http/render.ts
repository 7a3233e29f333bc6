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

/** The address asked for, without any `lang` parameter (there may be several), for the language links. */
function withoutLang(originalUrl: string): string {
  const mark = originalUrl.indexOf('?');
  // Always a path on this site: `//evil.example` (or `/\\evil.example`) would be a link to another host.
  const path = (mark < 0 ? originalUrl : originalUrl.slice(0, mark)).replace(/^[/\\]+/, '/');
  if (mark < 0) return path;
  const params = new URLSearchParams(originalUrl.slice(mark + 1));
  params.delete('lang');
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/**
 * Renders a page with what every page needs: the language and its switch, the CSRF token (generated
 * only for pages that ask for it, so read-only views stay cookie-free), and the page's own context.
 */
export function createRender(views: Views, options: { baseUrl: string; devMailbox: boolean }): Render {
  const html: Render['html'] = (req, res, page, context = {}) => {
    const lang = res.locals.lang as Lang;
    const path = typeof context.languagePath === 'string' ? context.languagePath : withoutLang(req.originalUrl);
    const sep = path.includes('?') ? '&' : '?';
    return views.page(page, {
      lang,
      baseUrl: options.baseUrl,
      devMailbox: options.devMailbox,
      languageSwitch: languages
        .filter((l) => l !== lang)
        .map((l) => ({ lang: l, label: languageNames[l], href: `${path}${sep}lang=${l}` })),
      ...context,
      // A caller may bring its own (a cached page's slot): generating one here too would set a second cookie.
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
