import { doubleCsrf } from 'csrf-csrf';

/**
 * Stateless CSRF for the console's login form (server/admin/authRoutes.ts), which has no session to
 * keep a token in yet: a signed double-submit cookie (csrf-csrf), set on /admin/login only. Public
 * forms use none (server/http/originCheck.ts); after login the console uses synchroniser tokens.
 */
export function createCsrf(secret: string, secure: boolean) {
  return doubleCsrf({
    getSecret: () => secret,
    // No session to bind to: the HMAC over the random value, checked against the cookie, is the proof.
    getSessionIdentifier: () => '',
    cookieName: secure ? '__Host-undersigned.csrf' : 'undersigned.csrf',
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
    errorConfig: { statusCode: 403, code: 'EBADCSRFTOKEN' },
  });
}
