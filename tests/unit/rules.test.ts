import { canonicalEmail, EmailDomains, IpRanges, RateWindow, rateBucket } from '../../server/signatures/rules';

describe('canonicalEmail', () => {
  it.each([
    ['Ada@Example.org', 'ada@example.org'],
    ['ada+news@example.org', 'ada@example.org'],
    ['a.d.a@example.org', 'a.d.a@example.org'],
    ['J.Doe+x@gmail.com', 'jdoe@gmail.com'],
    ['j.doe@googlemail.com', 'jdoe@gmail.com'],
    ['  ada@example.org ', 'ada@example.org'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalEmail(input)).toBe(expected);
  });
});

describe('IpRanges', () => {
  const ranges = new IpRanges(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
  it.each([
    ['203.0.113.9', true],
    ['::ffff:203.0.113.9', true],
    ['203.0.114.1', false],
    ['2001:db8::1', true],
    ['198.51.100.7', true],
    ['198.51.100.8', false],
    ['not an ip', false],
  ])('%s → %s', (ip, inside) => {
    expect(ranges.has(ip)).toBe(inside);
  });
});

describe('rateBucket', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:0:0:0:A', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
  ])('%s counts in the bucket of %s', (ip, bucket) => {
    expect(rateBucket(ip)).toBe(bucket);
  });
});

describe('RateWindow', () => {
  it('flags the hit that goes over either window, per key', () => {
    const rate = new RateWindow([
      { max: 2, seconds: 60 },
      { max: 3, seconds: 300 },
    ]);
    expect(rate.hit('a', 0)).toBe(false);
    expect(rate.hit('a', 1000)).toBe(false);
    expect(rate.hit('a', 2000)).toBe(true); // third within 60 s
    expect(rate.hit('b', 2000)).toBe(false); // another key is independent
    expect(rate.hit('a', 200_000)).toBe(true); // fourth within 300 s
    expect(rate.hit('a', 600_000)).toBe(false); // the windows have passed
  });

  it('forgets the oldest keys when full', () => {
    const rate = new RateWindow([{ max: 1, seconds: 60 }], 2);
    rate.hit('a', 0);
    rate.hit('b', 0);
    rate.hit('c', 0);
    expect(rate.hit('a', 1)).toBe(false); // 'a' was evicted, so this is its first hit again
    expect(rate.hit('c', 1)).toBe(true);
  });
});

describe('EmailDomains', () => {
  const blocked = new EmailDomains(['mailinator.com', '@Spam.Example', '*.junk.example']);
  it.each([
    ['x@mailinator.com', true],
    ['x@sub.mailinator.com', true],
    ['x@a.b.MAILINATOR.com', true],
    ['x@mailinator.com.', true],
    ['x@spam.example', true],
    ['x@mail.junk.example', true],
    ['x@notmailinator.com', false],
    ['x@mailinator.com.example.org', false],
    ['x@example.org', false],
  ])('%s → %s', (email, listed) => {
    expect(blocked.has(email)).toBe(listed);
  });
});
