import type Handlebars from 'handlebars';
import { langOf } from './lang';

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * `{{formatDay ms}}`: the day in Brussels, where the delegations sit, written as a British reader
 * ("30 November 2026") or a French one ("30 novembre 2026") expects.
 */
export function formatDay(ms: number, options: Handlebars.HelperOptions): string {
  const lang = langOf(options);
  let format = formats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      timeZone: 'Europe/Brussels',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
    formats.set(lang, format);
  }
  return format.format(new Date(ms));
}
