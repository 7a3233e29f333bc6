import { listUnsubscribeHeaders } from '../../server/mail/listUnsubscribe';

describe('listUnsubscribeHeaders', () => {
  it('names the unsubscribe address and offers RFC 8058 one-click', () => {
    expect(listUnsubscribeHeaders('https://example.org/unsubscribe/12.abc')).toEqual({
      'List-Unsubscribe': '<https://example.org/unsubscribe/12.abc>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('adds neither header to mail without an unsubscribe address', () => {
    expect(listUnsubscribeHeaders(undefined)).toEqual({});
    expect(listUnsubscribeHeaders('')).toEqual({});
  });
});
