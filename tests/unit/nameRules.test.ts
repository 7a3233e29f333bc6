import { greetingName, holdsLink, nameProblem, placeProblem } from '../../server/security/nameRules';

describe('nameProblem', () => {
  it.each([
    ['Ada Lovelace'],
    ['Zoë O’Brien-Smith'],
    ['Łukasz Żółć'],
    ['J. R. R. Tolkien'],
    ['J.R.R. Tolkien'],
    ["Mary-Jane O'Neil"],
    ['Ph.D. Jane Doe'],
    ['Γιώργος Παπαδόπουλος'],
    ['Γ. Παπαδόπουλος'],
    ['Александр С. Пушкин'],
    ['А. С. Пушкин'],
    ['Şükrü Saracoğlu'],
    ['İsmet İnönü'],
    ['Marcel·lí Domènech'], // the Catalan middle dot is not a full stop
    ['محمد علي'],
    ['山田 太郎'],
  ])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });

  it.each([
    ['Claim your refund at paypal-help.de now', 'url'],
    ['Visit bit.ly/3xYz', 'url'],
    ['t.me/freegift', 'url'],
    ['evil。com', 'url'], // ideographic full stop
    ['evil．com', 'url'], // full-width full stop
    ['evil｡com', 'url'], // half-width ideographic full stop
    ['evil․com', 'url'], // one dot leader
    ['evil﹒com', 'url'], // small full stop
    ['evil.\u200bcom', 'url'], // a zero-width space after the dot
    ['ｅｖｉｌ.ｃｏｍ', 'url'], // full-width letters
    ['Ivan пример.рф', 'url'],
    ['Ada win.bond', 'url'],
    ['Dr.Smith', 'url'], // a dot then letters is a domain to a mail program: a space is asked for
    ['see https://example.org', 'url'],
    ['HTTP example', 'url'],
    ['buy at www example', 'url'],
    ['ada@example', 'url'],
    ['Ada 203.0.113.7', 'url'],
    ['=1+2', 'formula'],
    ['+44 Ada', 'formula'],
    ['-Ada', 'formula'],
    ['@ada', 'formula'],
    ['Ada\nBcc: x@example.org', 'control'],
    ['Ada\u0000', 'control'],
    ['Ada\u202eecalevoL', 'control'], // right-to-left override
    ['Ada\u202a', 'control'],
    ['Ada\u2066Lovelace\u2069', 'control'], // isolates
    ['Ada\u200fLovelace', 'control'], // right-to-left mark
    ['Ada\u200eLovelace', 'control'],
    ['Ada\u061cLovelace', 'control'], // Arabic letter mark
  ])('refuses %j (%s)', (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });
});

describe('placeProblem', () => {
  it.each([
    ['St. Albans'],
    ['Saint-Étienne'],
    ['Frankfurt a. M.'],
    ['Frankfurt a.M.'],
    ['SW1A 1AA'],
    ['İzmir'],
    ['Θεσσαλονίκη'],
    ['Санкт-Петербург'],
  ])('accepts %j', (place) => {
    expect(placeProblem(place)).toBeUndefined();
  });

  it.each([
    ['paypal-help.de', 'url'],
    ['London t.me/x', 'url'],
    ['evil。com', 'url'],
    ['London\u202e', 'control'],
    ['London\r\nBcc: x', 'control'],
  ])('refuses %j (%s)', (place, problem) => {
    expect(placeProblem(place)).toBe(problem);
  });
});

describe('holdsLink', () => {
  it('finds a domain however it is dressed, and nothing in plain names', () => {
    expect(holdsLink('paypal-help\uff0ede')).toBe(true);
    expect(holdsLink('J. R. R. Tolkien')).toBe(false);
  });
});

describe('greetingName', () => {
  it('greets by name unless the name would be refused today', () => {
    expect(greetingName('Ada Lovelace')).toBe('Ada Lovelace');
    expect(greetingName('Claim your refund at paypal-help.de now')).toBe('');
  });
});
