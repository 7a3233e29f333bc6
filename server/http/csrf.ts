import { doubleCsrf } from 'csrf-csrf';

/**
 * Stateless CSRF for public forms: a signed double-submit cookie (csrf-csrf), so anonymous visitors
 * need no server-side session. The only POST without it is the RFC 8058 one-click unsubscribe, which
 * mail providers send without cookies.
 */
export function createCsrf(secret: string, secure: boolean) {
  return doubleCsrf({
    getSecret: () => secret,
    // No session to bind to: the HMAC over the random value, checked against the cookie, is the proof.
    getSessionIdentifier: () => '',
    cookieName: secure ? '__Host-undersigned.csrf' : 'undersigned.csrf',
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
    // The console (/admin) has sessions, and its own synchroniser tokens (csrf-sync) in them; its
    // login form, before any session, checks a token of this kind itself (server/admin/authRoutes.ts).
    skipCsrfProtection: (req) =>
      req.path.startsWith('/unsubscribe/') || req.path === '/admin' || req.path.startsWith('/admin/'),
    errorConfig: { statusCode: 403, code: 'EBADCSRFTOKEN' },
  });
}
