/**
 * The headers of mail a supporter can unsubscribe from: the address of the unsubscribe page, and
 * RFC 8058's one-click POST, which mail providers send for the user (SECURITY 14). None without an address.
 */
export function listUnsubscribeHeaders(unsubscribeUrl: string | undefined): Record<string, string> {
  if (!unsubscribeUrl) return {};
  return {
    'List-Unsubscribe': `<${unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}
