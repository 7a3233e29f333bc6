import { clientKey, createLoginThrottle } from '../../server/admin/loginThrottle';

describe('the failed-login throttle', () => {
  it('counts an IPv6 client by its /64, and an IPv4 one however it reached the socket', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('refuses an address past the limit until its window ends, and no other; a success is not counted', () => {
    let now = 0;
    const throttle = createLoginThrottle({ max: 3, windowMs: 1000 }, () => now);
    expect(throttle.begin('2001:db8::1')).toBe(0);
    throttle.succeeded('2001:db8::1');
    for (let i = 0; i < 3; i++) expect(throttle.begin(`2001:db8::${i + 1}`)).toBe(0);
    now = 400;
    expect(throttle.begin('2001:db8::99')).toBe(600);
    expect(throttle.begin('203.0.113.7')).toBe(0);
    now = 1000;
    expect(throttle.begin('2001:db8::1')).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the oldest first', () => {
    const throttle = createLoginThrottle({ max: 1, windowMs: 1000, maxClients: 2 }, () => 0);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) throttle.begin(ip);
    expect(throttle.begin('192.0.2.2')).toBe(1000);
    expect(throttle.begin('192.0.2.3')).toBe(1000);
    expect(throttle.begin('192.0.2.1')).toBe(0);
  });
});
