import { hashIp, signToken, tokenId, verifyToken } from '../../server/security/tokens';

describe('signed tokens', () => {
  const secret = 'secret-one';
  it('verifies a token for its purpose, id and salt only', () => {
    const token = signToken(secret, 'confirm', 42, 1000);
    expect(tokenId(token)).toBe(42);
    expect(verifyToken(secret, 'confirm', token, 1000)).toBe(true);
    expect(verifyToken(secret, 'unsubscribe', token, 1000)).toBe(false);
    expect(verifyToken(secret, 'confirm', token, 1001)).toBe(false);
    expect(verifyToken('secret-two', 'confirm', token, 1000)).toBe(false);
    expect(verifyToken(secret, 'confirm', token.replace(/^42/, '43'), 1000)).toBe(false);
  });

  it('rejects malformed tokens', () => {
    expect(tokenId('nonsense')).toBeUndefined();
    expect(verifyToken(secret, 'confirm', '1.short', 0)).toBe(false);
  });

  it('hashes IP addresses with the secret', () => {
    expect(hashIp(secret, '203.0.113.1')).toBe(hashIp(secret, '203.0.113.1'));
    expect(hashIp(secret, '203.0.113.1')).not.toBe(hashIp('other', '203.0.113.1'));
    expect(hashIp(secret, '203.0.113.1')).not.toContain('203');
  });
});
