import { canonicalEmail, mentionsAddress, replaceAddress } from '../../server/signatures/rules';

describe('replaceAddress', () => {
  const janet = canonicalEmail('ja.net.doerr@gmail.com');

  it('replaces every form of the same address, whole, and keeps what surrounds it', () => {
    expect(replaceAddress('Write to JanetDoerr+news@googlemail.com.', janet, '[x]')).toBe('Write to [x].');
    expect(replaceAddress('<janet.doerr@gmail.com>, janetdoerr@gmail.com', janet, '[x]')).toBe('<[x]>, [x]');
  });

  it("leaves other people's addresses alone, even those that contain it", () => {
    const ann = canonicalEmail('ann@x.org');
    for (const other of ['joann@x.org', 'jo.ann@x.org', 'ann@x.org.uk', 'ann@sub.x.org']) {
      expect(replaceAddress(other, ann, '[x]')).toBe(other);
      expect(mentionsAddress(`To: ${other}`, ann)).toBe(false);
    }
    expect(mentionsAddress('To: Ann+x@X.org', ann)).toBe(true);
  });
});
