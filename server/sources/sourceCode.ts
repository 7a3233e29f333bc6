/**
 * Source codes: which channel brought a signer or a letter writer in. A visitor arrives on any
 * public page with `?source=` (ours: `share-email`, `embed-partner.example`, a newsletter's code) or
 * a campaign's `utm_source`, `utm_medium` and `utm_campaign`; the sign and letter forms carry it in
 * one hidden field, `source`, and it is stored with the signature or letter.
 *
 * One text, not four columns: `source` when given, else the three utm values joined by "/" in that
 * order, empty trailing ones left out ("newsletter/email/spring", "newsletter"). Every part keeps only
 * [A-Za-z0-9._-] (anything else is dropped, not escaped) and at most 64 characters, so the value is
 * safe in HTML, CSV and an address without any encoding, and small.
 */

export const sourcePartMax = 64;

/** The query parameters that name a source: the page may carry them without being rendered anew. */
export const sourceParams = ['source', 'utm_source', 'utm_medium', 'utm_campaign'] as const;

/** One part: only [A-Za-z0-9._-], at most 64 characters; '' for anything that is not a string. */
export function sourcePart(value: unknown): string {
  if (typeof value !== 'string') return '';
  return value.replace(/[^A-Za-z0-9._-]/g, '').slice(0, sourcePartMax);
}

function joined(parts: string[]): string {
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('/');
}

/** The source an address names (its query), or '' when it names none. */
export function sourceFromQuery(query: Record<string, unknown>): string {
  const own = sourcePart(query.source);
  if (own) return own;
  return joined([sourcePart(query.utm_source), sourcePart(query.utm_medium), sourcePart(query.utm_campaign)]);
}

/**
 * The hidden field as a form posts it back: the same shape, checked again part by part (a form can
 * be written by anyone). At most three parts; '' when nothing is left.
 */
export function sourceFromForm(value: unknown): string {
  if (typeof value !== 'string') return '';
  return joined(value.split('/').slice(0, 3).map(sourcePart));
}

/** The source of a share link from one of our pages: `share-<channel>`. */
export const shareSource = (channel: string) => `share-${sourcePart(channel)}`;
