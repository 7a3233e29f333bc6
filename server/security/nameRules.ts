/**
 * What a person may type as their name, or their town or postcode: one check for signatures and
 * letters alike. Both end up in mail headers (SECURITY 8), in mail to addresses nobody has confirmed
 * (SECURITY 18: a name holding a link would make the platform a spam relay) and in exports (SECURITY 9).
 */

// C0, DEL and C1 controls, the line and paragraph separators, and the invisible direction marks,
// embeddings, overrides and isolates (U+061C, U+200E/F, U+202A–E, U+2066–9), which make text display
// in another order than it is stored.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// Dots that browsers and mail programs read as the dot between a domain's labels (UTS 46 maps them
// to "."), and marks that look like one: the Arabic, Syriac and raised full stops, the hyphenation
// point, the dot and bullet operators, runic and word-separator dots. None of them sits inside a word
// of anyone's name. The one-dot leader, small and full-width full stops become "." under NFKC.
const otherDots = /[\u02d9\u0660\u06f0\u0701\u0702\u06d4\u16eb\u2022\u2027\u2219\u22c5\u2e31\u2e33\u2e3c\u3002\uff61]/g;
// Middle dots that do sit inside words: the Catalan ela geminada (Marcel·lí, Gal·la; "ŀ" is "l·" under
// NFKC), the katakana middle dot between the parts of a foreign name (ジョン・スミス), the Lisu tone
// mark and the syllabics final dot. Before a Latin letter, outside "l·l", they are a dot in disguise.
const middleDots = /(.?)[\u00b7\u30fb\ua4f8\u1427](?=(\p{Script=Latin})?)/gu;
const dotUnlessCatalan = (dot: string, before: string, after: string | undefined) =>
  !after || (/^l$/i.test(before) && /^l$/i.test(after)) ? dot : `${before}.`;
// A dot written so that no program links it but every reader can put it back: "paypal-help[.]de",
// "paypal-help (dot) de", "{.}", "<dot>".
const bracketedDot = /\s*[[({<]\s*(?:\.|dot)\s*[\])}>]\s*/giu;
// "paypal-help dot de": spelled out between two words, before a country code or a common top-level
// domain ("Dot" alone stays a first name, as in "Dot Cotton").
const spelledDot =
  /(?<=[\p{L}\p{N}])\s+dot\s+(?=(?:\p{L}{2}|com|net|org|info|biz|xyz|top|online|site|shop|store|club|app|dev|link|live|click|icu|vip|win|bond|tech|pro|help|email)(?![\p{L}\p{N}]))/giu;
// Invisible characters (zero-width space, soft hyphen…) that would split "evil.com" for this check only.
const invisible = /\p{Default_Ignorable_Code_Point}/gu;
// A label, a dot, and two letters or more with no space between: "bit.ly", "paypal-help.de", "t.me",
// "пример.рф". Any top-level domain is new tomorrow, so none is listed: "J.Smith" is refused too,
// and the message asks for a space after the dot, as in "J. R. R. Tolkien" or "St. Albans".
const domain = /[\p{L}\p{M}\p{N}]\.\p{L}[\p{L}\p{M}]/u;
const ipv4 = /\d{1,3}(?:\.\d{1,3}){3}/;
const linkWords = /(?<![\p{L}\p{N}])(?:https?|ftp|www)(?![\p{L}\p{N}])|:\/\/|@/iu;

// A leading = + - @ (or tab/CR) would be read as a formula by spreadsheets opening an export.
const formulaStart = /^[=+\-@\t\r]/;

export type NameProblem = 'control' | 'url' | 'formula';
export type PlaceProblem = 'control' | 'url';

/** Whether text holds a domain, a link or an address in any form a mail program might link. */
export function holdsLink(text: string): boolean {
  // Look-alike dots first: NFKC would turn some (the dot above) into a space and a combining mark.
  const folded = text
    .replace(otherDots, '.')
    .normalize('NFKC')
    .replace(invisible, '')
    .replace(otherDots, '.')
    .replace(middleDots, dotUnlessCatalan)
    .replace(bracketedDot, '.')
    .replace(spelledDot, '.');
  return domain.test(folded) || ipv4.test(folded) || linkWords.test(folded);
}

/** Why a name cannot be accepted as typed, if it cannot. */
export function nameProblem(name: string): NameProblem | undefined {
  if (controlChars.test(name)) return 'control';
  if (formulaStart.test(name)) return 'formula';
  if (holdsLink(name)) return 'url';
  return undefined;
}

/** Why a town or postcode cannot be accepted as typed, if it cannot. */
export function placeProblem(place: string): PlaceProblem | undefined {
  if (controlChars.test(place)) return 'control';
  if (holdsLink(place)) return 'url';
  return undefined;
}

/**
 * The name to greet someone with in mail to an address that has not confirmed: none at all if it
 * would be refused today (a row written before a rule was added), so no such text reaches a stranger.
 */
export function greetingName(name: string): string {
  return nameProblem(name) ? '' : name;
}
