/**
 * The address a mail went to, as the "check your email" page names it: enough for its owner to spot a
 * typo ("a•••@exmaple.org"), not the whole address for whoever sees the screen or the history.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${[...email.slice(0, at)][0]}•••${email.slice(at)}`;
}
