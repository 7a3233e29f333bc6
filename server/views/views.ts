import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { i18n } from 'i18next';
import { appRoot } from '../config';
import { registerHelpers } from './helpers';

export type Template = Handlebars.TemplateDelegate;

export interface Views {
  /** Renders views/pages/<name>.hbs inside views/layouts/main.hbs (or the context's `layout`). */
  page(name: string, context: Record<string, unknown>): string;
  /** Renders templates/email/<name>.{html,text}.hbs inside their layouts. */
  email(name: string, context: Record<string, unknown>): { html: string; text: string };
}

function walk(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full, suffix);
    return entry.name.endsWith(suffix) ? [full] : [];
  });
}

function compileDir(hbs: typeof Handlebars, dir: string, suffix: string): Map<string, Template> {
  const out = new Map<string, Template>();
  for (const file of walk(dir, suffix)) {
    const name = path.relative(dir, file).slice(0, -suffix.length).split(path.sep).join('/');
    // preventIndent: a partial called on an indented line would otherwise have every line of its
    // output indented, text inside a <textarea> or a value="" included, and each save would add more.
    out.set(name, hbs.compile(fs.readFileSync(file, 'utf8'), { strict: false, preventIndent: true }));
  }
  return out;
}

function need(map: Map<string, Template>, name: string, where: string): Template {
  const template = map.get(name);
  if (!template) throw new Error(`No template ${where}/${name}`);
  return template;
}

/**
 * Two Handlebars instances of our own: one that HTML-escapes (pages, HTML mail) and one that does
 * not (plain-text mail). Every template is compiled once, at boot. Prototype access stays off.
 */
export function createViews(i18n: i18n, root = appRoot): Views {
  const html = Handlebars.create();
  const text = Handlebars.create();
  registerHelpers(html, i18n);
  registerHelpers(text, i18n);

  for (const [name, template] of compileDir(html, path.join(root, 'views', 'partials'), '.hbs')) {
    html.registerPartial(name, template);
  }
  const pages = compileDir(html, path.join(root, 'views', 'pages'), '.hbs');
  const layouts = compileDir(html, path.join(root, 'views', 'layouts'), '.hbs');
  need(layouts, 'main', 'views/layouts');

  const emailDir = path.join(root, 'templates', 'email');
  const htmlMails = compileDir(html, emailDir, '.html.hbs');
  const textMails = new Map<string, Template>();
  for (const file of walk(emailDir, '.text.hbs')) {
    const name = path.relative(emailDir, file).slice(0, -'.text.hbs'.length);
    textMails.set(name, text.compile(fs.readFileSync(file, 'utf8'), { noEscape: true, preventIndent: true }));
  }

  return {
    page(name, context) {
      const body = need(pages, name, 'views/pages')(context);
      const layout = typeof context.layout === 'string' ? context.layout : 'main';
      return need(layouts, layout, 'views/layouts')({ ...context, body });
    },
    email(name, context) {
      const htmlBody = need(htmlMails, name, 'templates/email')(context);
      const textBody = need(textMails, name, 'templates/email')(context);
      return {
        html: need(htmlMails, '_layout', 'templates/email')({ ...context, body: htmlBody }),
        text: need(textMails, '_layout', 'templates/email')({ ...context, body: textBody }),
      };
    },
  };
}
