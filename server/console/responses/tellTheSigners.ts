import type { i18n } from 'i18next';
import { delegationPath, noonOf } from '../../responses/responses';
import type { ResponseRow } from '../../responses/responsesRepository';
import { formatDay } from '../../time/dates';

/** The start of a text, cut at a word, for a quotation. */
function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Parentheses would end a Markdown link's address early. */
const markdownHref = (url: string) => url.replace(/\(/g, '%28').replace(/\)/g, '%29');

/**
 * "Tell the signers": the campaign update composer for the answer's petition (a demand's answer:
 * the demand's petition), prefilled with an English subject and body and narrowed to the signers
 * from the delegation's country. The organiser reads, edits, previews and sends as for any update.
 * Undefined when there is no petition to write to.
 */
export function tellTheSigners(row: ResponseRow, deps: { i18n: i18n; baseUrl: string }): string | undefined {
  const slug = row.signersPetitionSlug;
  if (!slug) return undefined;
  const en = (key: string, options: Record<string, unknown> = {}) => deps.i18n.t(key, { lng: 'en', ...options });
  const link =
    row.link ?? `${deps.baseUrl}${Number(row.isDefault) === 1 ? delegationPath(row.country) : `/petitions/${slug}`}`;
  const quote = excerpt(row.body, 600)
    .split('\n')
    .map((line) => `> ${line}`.trimEnd())
    .join('\n');
  const body = [
    en('responses.tell.intro', {
      delegation: row.delegation,
      date: formatDay(noonOf(row.receivedOn), 'en'),
      channel: en(`responses.tell.channels.${row.channel}`),
    }),
    quote,
    `[${en(row.link ? 'responses.tell.readIt' : 'responses.tell.delegationPage')}](${markdownHref(link)})`,
  ].join('\n\n');
  const query = new URLSearchParams({
    subject: en('responses.tell.subject', { delegation: row.delegation }),
    country: row.country,
    body,
  });
  return `/admin/updates/${slug}/new?${query.toString()}`;
}
