import type Handlebars from 'handlebars';
import { langOf } from './lang';

const formats = new Map<string, Intl.NumberFormat>();

export function numberFormat(lang: string): Intl.NumberFormat {
  let format = formats.get(lang);
  if (!format) formats.set(lang, (format = new Intl.NumberFormat(lang)));
  return format;
}

/** `{{formatNumber 1234}}` → "1,234" in English, "1 234" in French. */
export function formatNumber(value: number, options: Handlebars.HelperOptions): string {
  return numberFormat(langOf(options)).format(value);
}
