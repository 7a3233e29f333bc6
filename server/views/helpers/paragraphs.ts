import type Handlebars from 'handlebars';

/** `{{paragraphs text}}`: text split on blank lines into <p> elements; every piece is escaped first. */
export function paragraphs(hbs: typeof Handlebars) {
  return function (text: unknown): Handlebars.SafeString {
    const html = String(text ?? '')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => `<p>${hbs.escapeExpression(p).replace(/\n/g, '<br>')}</p>`)
      .join('\n');
    return new hbs.SafeString(html);
  };
}
