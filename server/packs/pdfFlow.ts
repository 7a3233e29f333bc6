/**
 * The page geometry of a hand-in pack and the few layout moves it needs, done by hand rather than
 * by pdfkit's own flowing text: every line is wrapped here and has a fixed height, so one pass that
 * only measures (`draw: false`) counts exactly the pages that the drawing pass then makes. That is
 * what lets each footer say "page X of Y" while the PDF streams out a page at a time.
 */
import type PDFDocument from 'pdfkit';

export type Pdf = InstanceType<typeof PDFDocument>;
export type FontName = 'regular' | 'bold';

/** A4 in points, and the frame every page shares. */
export const page = {
  width: 595.28,
  height: 841.89,
  left: 56,
  right: 595.28 - 56,
  top: 56,
  /** Content stops here; the footer sits below. */
  bottom: 841.89 - 76,
};
export const contentWidth = page.right - page.left;

export interface TextStyle {
  font: FontName;
  size: number;
  /** Line height as a multiple of the size. */
  leading?: number;
  color?: string;
}

export const lineHeight = (style: TextStyle) => style.size * (style.leading ?? 1.35);

/**
 * pdfkit's own font objects, reached past its typings in this one place: their fontkit font (for
 * advance widths) and the cache of shaped words pdfkit keeps for drawing, which would otherwise
 * hold every distinct word of the document (10,000 names…) until the end.
 */
interface FontInternals {
  font: {
    unitsPerEm: number;
    glyphForCodePoint(codePoint: number): { advanceWidth: number };
    hasGlyphForCodePoint(codePoint: number): boolean;
  };
  layoutCache?: Record<string, unknown>;
}

const measurers = new WeakMap<Pdf, Map<FontName, { font: FontInternals; widths: Map<number, number> }>>();

function fontOf(pdf: Pdf, name: FontName) {
  let fonts = measurers.get(pdf);
  if (!fonts) measurers.set(pdf, (fonts = new Map()));
  let entry = fonts.get(name);
  if (!entry) {
    pdf.font(name);
    entry = { font: (pdf as unknown as { _font: FontInternals })._font, widths: new Map() };
    fonts.set(name, entry);
  }
  return entry;
}

/**
 * Widths of text at one font and size, as the sum of each character's advance: no shaping (pdfkit's
 * widthOfString shapes every call, which made a 10,000-row table take seconds just to measure).
 * Kerning only narrows what is drawn, so a line measured here never overflows.
 */
function measure(pdf: Pdf, style: TextStyle) {
  const { font, widths } = fontOf(pdf, style.font);
  const scale = style.size / font.font.unitsPerEm;
  return (s: string) => {
    let units = 0;
    for (const char of s) {
      const codePoint = char.codePointAt(0)!;
      let w = widths.get(codePoint);
      if (w === undefined) widths.set(codePoint, (w = font.font.glyphForCodePoint(codePoint).advanceWidth));
      units += w;
    }
    return units * scale;
  };
}

/**
 * Whether the embedded font can draw every letter of `text` (DejaVu covers Latin, Greek, Cyrillic
 * and Turkish; not Chinese, Korean or Devanagari, say). Spaces and control characters aside.
 */
export function printable(pdf: Pdf, text: string, fontName: FontName = 'regular'): boolean {
  const { font } = fontOf(pdf, fontName);
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (/[\s\p{C}]/u.test(char)) continue;
    if (!font.font.hasGlyphForCodePoint(codePoint)) return false;
  }
  return true;
}

/** Width of one line of text, as wrap and cell measure it. */
export function textWidth(pdf: Pdf, text: string, style: TextStyle): number {
  return measure(pdf, style)(text);
}

/**
 * Forgets the words pdfkit shaped for the pages before: kept for the whole document, they would be
 * every distinct name in it. A page's worth (dates, countries, common names) is what repeats.
 */
export function forgetShapedWords(pdf: Pdf): void {
  for (const { font } of measurers.get(pdf)?.values() ?? []) {
    if (font.layoutCache) font.layoutCache = Object.create(null);
  }
}

/**
 * Splits text into lines no wider than `width`: hard line breaks are kept (a blank line stays a
 * blank line), words wrap at spaces, and a word wider than the line is cut between characters.
 */
export function wrap(pdf: Pdf, text: string, style: TextStyle, width: number): string[] {
  const widthOf = measure(pdf, style);
  const space = widthOf(' ');
  const lines: string[] = [];
  for (const source of text.replace(/\r\n?/g, '\n').split('\n')) {
    const words = source.split(/[ \t]+/).filter(Boolean);
    if (words.length === 0) {
      lines.push('');
      continue;
    }
    let line = '';
    let used = 0;
    for (let word of words) {
      let w = widthOf(word);
      while (w > width) {
        // A word longer than a whole line (a long URL, a name without spaces): cut it where it fills one.
        if (line) {
          lines.push(line);
          line = '';
          used = 0;
        }
        const head = fit(word, width, widthOf);
        lines.push(head);
        word = word.slice(head.length);
        w = widthOf(word);
      }
      if (!word) continue;
      if (line && used + space + w > width) {
        lines.push(line);
        line = '';
        used = 0;
      }
      used += (line ? space : 0) + w;
      line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(line);
  }
  return lines;
}

/** The longest start of `text`, whole characters (code points), that fits in `width`; one at least. */
function fit(text: string, width: number, widthOf: (s: string) => number, suffix = ''): string {
  const chars = Array.from(text);
  let lo = 1;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (widthOf(chars.slice(0, mid).join('') + suffix) <= width) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('');
}

/**
 * One line of a table cell: drawn at `style.size`, or a little smaller if that makes it fit, or
 * else cut short with an ellipsis, so a long name never wraps and never spills into the next column.
 */
export function cell(pdf: Pdf, text: string, style: TextStyle, width: number): { text: string; size: number } {
  for (const size of [style.size, style.size - 1, style.size - 1.5]) {
    const widthOf = measure(pdf, { ...style, size });
    if (widthOf(text) <= width) return { text, size };
  }
  const size = style.size - 1.5;
  const widthOf = measure(pdf, { ...style, size });
  return { text: `${fit(text, width, widthOf, '…').trimEnd()}…`, size };
}

/**
 * Places lines top to bottom on pages, starting a new page when the next line would cross the
 * bottom. With `draw` false it only counts: the same calls, the same pages, nothing written.
 */
export class Flow {
  /** Pages started so far. */
  pages = 0;
  y = page.top;
  /** Drawn at the top of each further page of a section (a table's column names, "continued"). */
  continuation: (() => void) | null = null;

  constructor(
    readonly pdf: Pdf,
    readonly draw: boolean,
    private readonly onPage: (pageNumber: number) => void | Promise<void>,
  ) {}

  async newPage(): Promise<void> {
    this.pages++;
    this.y = page.top;
    if (this.draw) this.pdf.addPage({ size: 'A4', margin: 0 });
    await this.onPage(this.pages);
    this.continuation?.();
  }

  /** Starts a new page unless `height` still fits on this one (or nothing is on it yet). */
  async room(height: number): Promise<void> {
    if (this.pages === 0 || (this.y + height > page.bottom && this.y > page.top)) await this.newPage();
  }

  space(height: number): void {
    this.y += height;
  }

  /** Text wrapped to the content width (or `width`, from `x`), one line at a time across pages. */
  async text(text: string, style: TextStyle, options: { x?: number; width?: number; keep?: number } = {}) {
    const x = options.x ?? page.left;
    const lines = wrap(this.pdf, text, style, options.width ?? page.right - x);
    const height = lineHeight(style);
    // `keep`: lines that must stay together with what precedes them (a heading with its first line).
    await this.room(height * Math.min(lines.length, options.keep ?? 1));
    for (const line of lines) {
      await this.room(height);
      if (this.draw && line) this.line(line, x, this.y, style);
      this.y += height;
    }
  }

  /** One line at (x, y), never wrapped, never starting a page. */
  line(text: string, x: number, y: number, style: TextStyle, options: { link?: string } = {}): void {
    this.pdf
      .font(style.font)
      .fontSize(style.size)
      .fillColor(style.color ?? 'black')
      .text(text, x, y, { lineBreak: false, link: options.link });
  }
}
