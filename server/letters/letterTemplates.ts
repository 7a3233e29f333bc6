import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { appRoot } from '../config';
import type { Lang } from '../i18n/i18n';

export interface LetterFields {
  target: string;
  /** The salutation's title ("Ambassador"): see salutation.ts. */
  addressee: string;
  name: string;
  town: string;
  country: string;
  ownWords: string;
}

export interface LetterTemplates {
  has(demandSlug: string, lang: Lang): boolean;
  render(demandSlug: string, lang: Lang, fields: LetterFields): string;
}

/**
 * templates/letters/<demand>.<lang>.hbs, compiled once at boot. A letter is plain text, so these are
 * compiled without HTML escaping by an instance of their own with no helpers beyond the built-ins;
 * the text is escaped wherever it is shown in HTML. The supporter's words are data, never compiled.
 */
export function loadLetterTemplates(dir = path.join(appRoot, 'templates', 'letters')): LetterTemplates {
  const hbs = Handlebars.create();
  const templates = new Map<string, Handlebars.TemplateDelegate<LetterFields>>();
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const match = /^([a-z0-9-]+)\.(en|fr)\.hbs$/.exec(file);
    if (!match) continue;
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    templates.set(`${match[1]}.${match[2]}`, hbs.compile(source, { noEscape: true, strict: true }));
  }
  return {
    has: (demandSlug, lang) => templates.has(`${demandSlug}.${lang}`),
    render(demandSlug, lang, fields) {
      const template = templates.get(`${demandSlug}.${lang}`);
      if (!template) throw new Error(`No letter template templates/letters/${demandSlug}.${lang}.hbs`);
      return tidy(template(fields));
    },
  };
}

/** Trailing spaces dropped and blank lines collapsed, so an empty optional field leaves no gap. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
