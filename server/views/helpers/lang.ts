import type Handlebars from 'handlebars';

/** The page language, which every render context carries as `lang`. */
export function langOf(options: Handlebars.HelperOptions): string {
  const root = (options.data as { root?: { lang?: unknown } } | undefined)?.root;
  return typeof root?.lang === 'string' ? root.lang : 'en';
}
