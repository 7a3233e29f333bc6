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
    ['Gal·la Placídia'],
    ['Pau Paral·lel'],
    ['MARCEL·LÍ DOMÈNECH'],
    ['Marceŀlí Domènech'], // the ela geminada as one character (U+0140)
    ['Dot Cotton'], // Dot is a first name
    ['Mary Dot Cotton'],
    ['José María Aznar-López'],
    ['Françoise d’Eaubonne'],
    ['Νίκος Καζαντζάκης'],
    ['Пётр Ильич Чайковский'],
    ['Ольга А. Иванова'],
    ['Ilgın Çağ'],
    ['Ayşe Gül Öztürk'],
    ['ジョン・スミス'], // the katakana middle dot between the parts of a name
    ['Αθηνά Ιω. Δημητρίου'],
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
    ['paypal-help dot de', 'url'],
    ['Claim it at paypal-help DOT com now', 'url'],
    ['paypal-help[.]de', 'url'],
    ['paypal-help [.] de', 'url'],
    ['paypal-help(.)de', 'url'],
    ['paypal-help {.} de', 'url'],
    ['paypal-help (dot) de', 'url'],
    ['paypal-help[dot]com', 'url'],
    ['paypal-help\ua4f8de', 'url'], // Lisu letter tone mya ti
    ['paypal-help\u0701de', 'url'], // Syriac supralinear full stop
    ['paypal-help\u06d4de', 'url'], // Arabic full stop
    ['paypal-help\u2e33de', 'url'], // raised dot
    ['paypal-help\u2024de', 'url'], // one dot leader
    ['paypal-help\ufe52de', 'url'], // small full stop
    ['paypal-help\uff0ede', 'url'], // full-width full stop
    ['paypal-help\u2027de', 'url'], // hyphenation point
    ['paypal-help\u22c5de', 'url'], // dot operator
    ['paypal-help\u2022de', 'url'], // bullet
    ['paypal-help\u0660de', 'url'], // Arabic-Indic digit zero, a dot to the eye
    ['paypal-help\u06f0de', 'url'], // extended Arabic-Indic digit zero
    ['paypal-help\u02d9de', 'url'], // dot above
    ['paypal-help\u2e3cde', 'url'], // stenographic full stop
    ['paypal-help\u00b7de', 'url'], // a middle dot outside the Catalan l·l
    ['paypal-help\u0387com', 'url'], // Greek ano teleia, a middle dot under NFKC
    ['paypal-help\u30fbcom', 'url'], // katakana middle dot before Latin letters
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
    ['Sant Cugat del Vallès · Col·legi'],
    ['Санкт-Петербург'],
  ])('accepts %j', (place) => {
    expect(placeProblem(place)).toBeUndefined();
  });

  it.each([
    ['paypal-help.de', 'url'],
    ['London t.me/x', 'url'],
    ['evil。com', 'url'],
    ['paypal-help dot de', 'url'],
    ['paypal-help[.]de', 'url'],
    ['paypal-help\u06d4de', 'url'],
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
