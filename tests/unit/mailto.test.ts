import { mailtoHref } from '../../server/letters/mailto';

describe('mailtoHref', () => {
  it('percent-encodes subject and body (RFC 6068): spaces as %20, line breaks as %0D%0A, & and = escaped', () => {
    const href = mailtoHref({
      subject: 'Fair taxes – a letter from Zoë & co',
      body: 'Dear delegation,\n\n1 + 1 = 2?\nYours',
    });
    expect(href).toBe(
      'mailto:?subject=Fair%20taxes%20%E2%80%93%20a%20letter%20from%20Zo%C3%AB%20%26%20co' +
        '&body=Dear%20delegation%2C%0D%0A%0D%0A1%20%2B%201%20%3D%202%3F%0D%0AYours',
    );
    expect(href).not.toContain('+');
  });

  it('gives back the exact text when decoded', () => {
    const body = 'Line one\nLine two with # and % and ?\n\n« guillemets » — 100 %';
    const url = new URL(mailtoHref({ subject: 'S?&=#', body }));
    expect(url.protocol).toBe('mailto:');
    expect(url.searchParams.get('subject')).toBe('S?&=#');
    expect(url.searchParams.get('body')).toBe(body.replace(/\n/g, '\r\n'));
  });

  it('puts an address before the query when there is one', () => {
    expect(mailtoHref({ to: 'a@example.org', subject: 's', body: 'b' })).toBe('mailto:a@example.org?subject=s&body=b');
  });
});
