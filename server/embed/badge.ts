/**
 * A counter image in the manner of shields.io ("Undersigned | 12,345 signatures") for newsletters,
 * READMEs and partners' pages: plain SVG, no script, no external font or image, with a `<title>`
 * (and `aria-label`) that says the same in words.
 */

const height = 20;
const padding = 6;

/** Text as XML: the petition's title is an organiser's text and goes into `<title>`. */
export function xmlText(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The width of a text in 11px Verdana, near enough: the renderer's own widths are not known here,
 * so each character takes its class's average and the text is centred in its half (shields.io
 * measures exactly; a few pixels of slack are the price of no font file).
 */
export function textWidth(text: string): number {
  let width = 0;
  for (const c of text) {
    if (/[ilj.,:;'!|\u202f\u00a0]/.test(c)) width += 3.5;
    else if (/[mwMW]/.test(c)) width += 10;
    else if (/[A-Z0-9]/.test(c)) width += 7.5;
    else width += 6.5;
  }
  return Math.ceil(width);
}

export function badgeSvg(badge: { label: string; value: string; title: string }): string {
  const left = textWidth(badge.label) + 2 * padding;
  const right = textWidth(badge.value) + 2 * padding;
  const width = left + right;
  const title = xmlText(badge.title);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">`,
    `<title>${title}</title>`,
    `<clipPath id="r"><rect width="${width}" height="${height}" rx="3"/></clipPath>`,
    `<g clip-path="url(#r)">`,
    `<rect width="${left}" height="${height}" fill="#1d1d1b"/>`,
    `<rect x="${left}" width="${right}" height="${height}" fill="#1f5f3f"/>`,
    `</g>`,
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11" aria-hidden="true">`,
    `<text x="${left / 2}" y="14">${xmlText(badge.label)}</text>`,
    `<text x="${left + right / 2}" y="14">${xmlText(badge.value)}</text>`,
    `</g>`,
    `</svg>`,
  ].join('\n');
}
