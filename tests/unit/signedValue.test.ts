import { redactPath } from '../../server/logger';
import { readSignedValue, signValue } from '../../server/security/tokens';
import { maskEmail } from '../../server/signatures/maskedEmail';

const secret = 'a-test-secret-that-is-long-enough-000000';

describe('maskEmail', () => {
  it('keeps the first character and the domain, and nothing else of the address', () => {
    expect(maskEmail('ada.lovelace@example.org')).toBe('a•••@example.org');
    expect(maskEmail('é@exämple.fr')).toBe('é•••@exämple.fr');
    expect(maskEmail('not an address')).toBe('•••');
  });
});

describe('signValue / readSignedValue', () => {
  const now = Date.UTC(2026, 10, 30);
  const token = signValue(secret, 'check-email', 'a•••@example.org', now + 1000);

  it('reads back the value while it lasts, for its purpose and secret only', () => {
    expect(readSignedValue(secret, 'check-email', token, now)).toBe('a•••@example.org');
    expect(readSignedValue(secret, 'check-email', token, now + 1000)).toBeUndefined();
    expect(readSignedValue(secret, 'other', token, now)).toBeUndefined();
    expect(readSignedValue(`${secret}x`, 'check-email', token, now)).toBeUndefined();
  });

  it('refuses a changed value, end or MAC, and anything that is not a string', () => {
    const [value, expires, mac] = token.split('.');
    const other = Buffer.from('b•••@example.org').toString('base64url');
    expect(readSignedValue(secret, 'check-email', `${other}.${expires}.${mac}`, now)).toBeUndefined();
    expect(readSignedValue(secret, 'check-email', `${value}.${(now + 9e9).toString(36)}.${mac}`, now)).toBeUndefined();
    expect(readSignedValue(secret, 'check-email', `${value}.${expires}.${'A'.repeat(27)}`, now)).toBeUndefined();
    expect(readSignedValue(secret, 'check-email', [token], now)).toBeUndefined();
    expect(readSignedValue(secret, 'check-email', undefined, now)).toBeUndefined();
  });

  it('never reaches the logs: request paths are logged without their query', () => {
    expect(redactPath(`/petitions/x/check-email?to=${token}`)).toBe('/petitions/x/check-email');
  });
});
