import type Handlebars from 'handlebars';
import { langOf } from './lang';

const formats = new Map<string, Intl.DateTimeFormat>();

/** `{{formatDate ms}}`: a date (no time) as a British reader ("30 November 2026") or a French one expects. */
export function formatDate(ms: number, options: Handlebars.HelperOptions): string {
  const lang = langOf(options);
  let format = formats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
    formats.set(lang, format);
  }
  return format.format(new Date(ms));
}
