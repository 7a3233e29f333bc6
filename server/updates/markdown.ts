import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';

/**
 * The small Markdown organisers write updates in: paragraphs, headings, lists, quotes, emphasis and
 * links. Raw HTML is never passed through (it shows as text), and links go only to http(s).
 */
const md = new MarkdownIt('zero', { linkify: true, breaks: false }).enable([
  'paragraph',
  'heading',
  'list',
  'blockquote',
  'emphasis',
  'link',
  'linkify',
  'newline',
  'escape',
  'backticks',
]);
md.validateLink = (url) => /^https?:\/\//i.test(url.trim());

export function markdownToHtml(source: string): string {
  return md.render(source);
}

/** Links in `source` that would not be links (not http/https): the composer says so beside the field. */
export function refusedLinks(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\[[^\]]*\]\(\s*([^)\s]+)[^)]*\)/g)) {
    if (!md.validateLink(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** The plain-text part of the mail: the same words, links written out after their text. */
export function markdownToText(source: string): string {
  const blocks: Array<{ text: string; item: boolean }> = [];
  let line = '';
  let listDepth = 0;
  let quote = 0;
  const ordered: number[] = [];
  const inline = (children: Token[]) => {
    let href: string | undefined;
    let linkText = '';
    for (const child of children) {
      if (child.type === 'link_open') {
        href = String(child.attrGet('href') ?? '') || undefined;
        linkText = '';
      } else if (child.type === 'link_close') {
        if (href && href !== linkText && href !== `http://${linkText}` && href !== `https://${linkText}`)
          line += ` (${href})`;
        href = undefined;
      } else if (child.type === 'softbreak' || child.type === 'hardbreak') {
        line += '\n';
      } else if (child.type === 'text' || child.type === 'code_inline') {
        line += child.content;
        if (href) linkText += child.content;
      }
    }
  };
  for (const token of md.parse(source, {})) {
    switch (token.type) {
      case 'bullet_list_open':
        listDepth++;
        ordered.push(0);
        break;
      case 'ordered_list_open':
        listDepth++;
        ordered.push(1);
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        listDepth--;
        ordered.pop();
        break;
      case 'blockquote_open':
        quote++;
        break;
      case 'blockquote_close':
        quote--;
        break;
      case 'list_item_open': {
        const n = ordered.at(-1) ?? 0;
        line = `${'  '.repeat(Math.max(0, listDepth - 1))}${n > 0 ? `${n}.` : '-'} `;
        if (n > 0) ordered[ordered.length - 1] = n + 1;
        break;
      }
      case 'inline':
        inline(token.children ?? []);
        break;
      case 'paragraph_close':
      case 'heading_close':
        blocks.push({ text: quote > 0 ? line.replace(/^/gm, '> ') : line, item: listDepth > 0 });
        line = '';
        break;
    }
  }
  // List items are paragraphs too ("tight" lists hide theirs): one item per line, lists apart.
  return blocks.map((b, i) => (i === 0 ? '' : b.item && blocks[i - 1]!.item ? '\n' : '\n\n') + b.text).join('');
}
