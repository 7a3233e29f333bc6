import type Handlebars from 'handlebars';
import { isLang } from '../../i18n/i18n';
import { formatDay as dayIn } from '../../time/dates';
import { langOf } from './lang';

/** `{{formatDay ms}}`: the day in Brussels, "30 November 2026" or "30 novembre 2026" (server/time/dates.ts). */
export function formatDay(ms: number, options: Handlebars.HelperOptions): string {
  const lang = langOf(options);
  return dayIn(ms, isLang(lang) ? lang : 'en');
}
