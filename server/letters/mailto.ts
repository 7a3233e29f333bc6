/**
 * A mailto: link that opens the supporter's own mail program with the letter filled in (RFC 6068):
 * every field percent-encoded as UTF-8, spaces as %20 (never "+"), line breaks as %0D%0A.
 */
export function mailtoHref(fields: { to?: string | null; subject: string; body: string }): string {
  const encode = (value: string) => encodeURIComponent(value.replace(/\r\n?|\n/g, '\r\n'));
  const to = fields.to ? encodeURIComponent(fields.to).replace(/%40/g, '@') : '';
  return `mailto:${to}?subject=${encode(fields.subject)}&body=${encode(fields.body)}`;
}
