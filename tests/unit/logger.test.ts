import { redactPath } from '../../server/logger';

describe('redactPath', () => {
  it('cuts tokens and query strings out of logged paths', () => {
    expect(redactPath('/signatures/12.abcdefghijklmnopqrstuvwxyz0/confirm')).toBe('/signatures/:token/confirm');
    expect(redactPath('/unsubscribe/7.abcdefghijklmnopqrstuvwxyz0')).toBe('/unsubscribe/:token');
    expect(redactPath('/petitions/x?email=ada@example.org')).toBe('/petitions/x');
  });
});
