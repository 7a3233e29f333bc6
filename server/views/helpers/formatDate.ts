import type Handlebars from 'handlebars';
import { langOf } from './lang';

/** `{{formatDate ms}}`: a date (no time) in the page's language. */
export function formatDate(ms: number, options: Handlebars.HelperOptions): string {
  return new Date(ms).toLocaleDateString(langOf(options), { day: 'numeric', month: 'long', year: 'numeric' });
}
