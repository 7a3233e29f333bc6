import type Handlebars from 'handlebars';
import type { i18n } from 'i18next';
import { langOf } from './lang';

/** `{{t "key" name=value count=n}}`: the translation in the page's language; output is escaped by Handlebars. */
export function t(i18n: i18n) {
  return function (this: unknown, key: string, options: Handlebars.HelperOptions): string {
    return i18n.t(key, { ...options.hash, lng: langOf(options) }) as string;
  };
}
