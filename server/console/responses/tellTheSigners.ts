import type { i18n } from 'i18next';
import { delegationPath, noonOf } from '../../responses/responses';
import type { ResponseRow } from '../../responses/responsesRepository';
import type { UpdatePrefill } from '../updates/updateForm';
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
 * the demand's petition), opened with this answer's draft. Undefined when there is no petition to
 * write to. The address names the answer, not the draft: a long quotation twice (English and
 * French) would not fit in an address a proxy accepts.
 */
export function tellTheSignersHref(row: ResponseRow): string | undefined {
  const slug = row.signersPetitionSlug;
  return slug ? `/admin/updates/${slug}/new?response=${row.id}` : undefined;
}

/**
 * The draft: a subject and body in English and in French (the answer quoted as written in both),
 * for the signers from the delegation's country. The organiser reads, edits, previews and sends as
 * for any update.
 */
export function tellTheSignersDraft(
  row: ResponseRow,
  deps: { i18n: i18n; baseUrl: string },
): UpdatePrefill | undefined {
  const slug = row.signersPetitionSlug;
  if (!slug) return undefined;
  const link =
    row.link ?? `${deps.baseUrl}${Number(row.isDefault) === 1 ? delegationPath(row.country) : `/petitions/${slug}`}`;
  const quote = excerpt(row.body, 600)
    .split('\n')
    .map((line) => `> ${line}`.trimEnd())
    .join('\n');
  const draft = (lng: 'en' | 'fr') => {
    const t = (key: string, options: Record<string, unknown> = {}) => deps.i18n.t(key, { lng, ...options });
    const body = [
      t('responses.tell.intro', {
        delegation: row.delegation,
        date: formatDay(noonOf(row.receivedOn), lng),
        channel: t(`responses.tell.channels.${row.channel}`),
      }),
      quote,
      `[${t(row.link ? 'responses.tell.readIt' : 'responses.tell.delegationPage')}](${markdownHref(link)})`,
    ].join('\n\n');
    return { subject: t('responses.tell.subject', { delegation: row.delegation }), body };
  };
  const en = draft('en');
  const fr = draft('fr');
  return {
    petitionSlug: slug,
    values: {
      subjectEn: en.subject,
      bodyEn: en.body,
      subjectFr: fr.subject,
      bodyFr: fr.body,
      countries: [row.country],
    },
  };
}
