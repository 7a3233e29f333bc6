import type Handlebars from 'handlebars';
import type { i18n } from 'i18next';
import { langOf } from './lang';

/** `{{t "key" name=value count=n}}`: the translation in the page's language; output is escaped by Handlebars. */
export function t(i18n: i18n) {
  // Most calls pass no values, so their text depends on the language alone: look it up once. Every
  // page and mail makes a dozen such calls, and i18next's lookup is the costliest step of rendering.
  const plain = new Map<string, string>();
  return function (this: unknown, key: string, options: Handlebars.HelperOptions): string {
    const lng = langOf(options);
    for (const _ in options.hash) return i18n.t(key, { ...options.hash, lng }) as string;
    const id = `${lng}\0${key}`;
    let text = plain.get(id);
    if (text === undefined) plain.set(id, (text = i18n.t(key, { lng }) as string));
    return text;
  };
}
