import crypto from 'node:crypto';

// The secret as a key object, imported once: every link signed or checked would import it again.
const keys = new Map<string, crypto.KeyObject>();
function key(secret: string): crypto.KeyObject {
  let found = keys.get(secret);
  if (!found) keys.set(secret, (found = crypto.createSecretKey(Buffer.from(secret, 'utf8'))));
  return found;
}

/**
 * Links in mail carry `<id>.<mac>`: the row's id and an HMAC over a purpose, the id and a value fixed
 * when the row was made. Nothing secret is stored, a database leak yields no working link, and a
 * re-sent mail carries the very same link as the first.
 */
export function signToken(secret: string, purpose: string, id: number, salt: string | number): string {
  const mac = crypto
    .createHmac('sha256', key(secret))
    .update(`${purpose}:${id}:${salt}`)
    .digest('base64url')
    .slice(0, 27);
  return `${id}.${mac}`;
}

/** The id a token names, before its MAC is checked against the row. */
export function tokenId(token: string): number | undefined {
  const match = /^(\d{1,15})\.[\w-]{27}$/.exec(token);
  return match ? Number(match[1]) : undefined;
}

export function verifyToken(secret: string, purpose: string, token: string, salt: string | number): boolean {
  const id = tokenId(token);
  if (id === undefined) return false;
  const expected = Buffer.from(signToken(secret, purpose, id, salt));
  const given = Buffer.from(token);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

/** IP addresses are stored only as an HMAC with the secret: enough to group, not to recover. */
export function hashIp(secret: string, ip: string): string {
  return crypto.createHmac('sha256', key(secret)).update(`ip:${ip}`).digest('base64url').slice(0, 22);
}

/**
 * A short value carried to one page in the address (`<value>.<expires>.<mac>`), signed so that nobody
 * can make the page show text of their choosing, and short-lived so that an old address shows nothing.
 */
export function signValue(secret: string, purpose: string, value: string, expiresAt: number): string {
  const body = `${Buffer.from(value, 'utf8').toString('base64url')}.${expiresAt.toString(36)}`;
  const mac = crypto.createHmac('sha256', key(secret)).update(`${purpose}:${body}`).digest('base64url').slice(0, 27);
  return `${body}.${mac}`;
}

/** The value `signValue` carried, while it lasts and only if untouched. */
export function readSignedValue(secret: string, purpose: string, token: unknown, now: number): string | undefined {
  if (typeof token !== 'string') return undefined;
  const match = /^([\w-]{1,400})\.([0-9a-z]{1,12})\.[\w-]{27}$/.exec(token);
  if (!match) return undefined;
  const expiresAt = parseInt(match[2]!, 36);
  if (!(expiresAt > now)) return undefined;
  const value = Buffer.from(match[1]!, 'base64url').toString('utf8');
  const expected = Buffer.from(signValue(secret, purpose, value, expiresAt));
  const given = Buffer.from(token);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? value : undefined;
}
