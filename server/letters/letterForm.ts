import { z } from 'zod';
import { nameProblem, placeProblem } from '../security/nameRules';
import { sourceFromForm } from '../sources/sourceCode';
import type { PostChoice } from './letterChannel';

export type LetterLangChoice = 'auto' | 'en' | 'fr';

/** What the form sends back to the page: every value as typed, so nothing is lost on an error. */
export interface LetterFormValues {
  country: string;
  /** A further target of that country, by id; blank means the country's default (its NATO delegation). */
  target: string;
  name: string;
  email: string;
  town: string;
  ownWords: string;
  lang: LetterLangChoice;
  copy: boolean;
  /** "Don't ask me afterwards whether I got a reply" (the questionnaire 14 days after). */
  noFollowUp: boolean;
  /**
   * To a delegation that takes letters on paper: the next hand-in pack (the default), or the writer
   * sends it themselves. Ignored for a delegation we email.
   */
  delivery: PostChoice;
  /** Where the writer came from (a hidden field: server/sources/sourceCode.ts); '' when unknown. */
  source?: string;
}

export type LetterField = 'country' | 'name' | 'email' | 'town' | 'ownWords' | 'body';

/** Field → the i18n key of a message written as an instruction. */
export type LetterErrors = Partial<Record<LetterField, string>>;

export type LetterFormResult =
  | { ok: true; values: LetterFormValues; honeypot: boolean }
  | { ok: false; values: LetterFormValues; errors: LetterErrors };

export type LetterBodyResult = { ok: true; body: string } | { ok: false; body: string; error: string };

/** Order of the error summary: the order of the fields on the page. */
export const fieldOrder: readonly LetterField[] = ['country', 'name', 'email', 'town', 'ownWords', 'body'];

export const ownWordsMin = 15;
export const ownWordsMax = 1000;
export const bodyMax = 20_000;

// Anything that is not a string (an array from `name[]=`, say) counts as blank.
const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === 'string' ? v : ''));
const checkbox = z
  .unknown()
  .optional()
  .transform((v) => v === 'on' || v === '1' || v === 'yes');

const fields = z.object({
  country: text,
  target: text,
  name: text,
  email: text,
  town: text,
  ownWords: text,
  lang: text,
  copy: checkbox,
  noFollowUp: checkbox,
  delivery: text,
  source: text,
  website: text, // the honeypot: invisible to people, filled by naive bots
});

const emailFormat = z.email();
// eslint-disable-next-line no-control-regex
const anyControl = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// Text that spans lines may hold line breaks and tabs, nothing else below space.
// eslint-disable-next-line no-control-regex
const controlInText = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** Characters as a person counts them (a code point, not a UTF-16 unit), as SQLite's length() does. */
export function charCount(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff) n++; // a low surrogate ends a pair already counted
  }
  return n;
}

/** Line breaks as \n, whatever the browser sent. */
function lines(value: string): string {
  return value.replace(/\r\n?/g, '\n');
}

/**
 * Picks only the known fields (posting `state`, `id`, `recipient` or `__proto__` changes nothing)
 * and checks each, answering with the values as typed and one instruction per field in error.
 */
export function parseLetterForm(body: unknown, countryCodes: ReadonlySet<string>): LetterFormResult {
  const raw = fields.parse(typeof body === 'object' && body !== null ? body : {});
  const lang = raw.lang === 'en' || raw.lang === 'fr' ? raw.lang : 'auto';
  const values: LetterFormValues = {
    country: raw.country.trim().slice(0, 8).toUpperCase(),
    target: /^\d{1,9}$/.test(raw.target.trim()) ? raw.target.trim() : '',
    name: raw.name.trim().slice(0, 400),
    email: raw.email.trim().slice(0, 400),
    town: raw.town.trim().slice(0, 400),
    ownWords: lines(raw.ownWords).trim().slice(0, 4000),
    lang,
    copy: raw.copy,
    noFollowUp: raw.noFollowUp,
    delivery: raw.delivery === 'self' ? 'self' : 'post',
    source: sourceFromForm(raw.source),
  };
  const errors: LetterErrors = {};

  if (!values.country) errors.country = 'letters.errors.countryBlank';
  else if (!countryCodes.has(values.country)) errors.country = 'letters.errors.countryInvalid';

  // The name goes into a mail header (the subject) and mail to unconfirmed addresses: see nameRules.
  const problem = nameProblem(values.name);
  if (!values.name) errors.name = 'letters.errors.nameBlank';
  else if (values.name.length > 100) errors.name = 'letters.errors.nameTooLong';
  else if (problem) errors.name = `letters.errors.name_${problem}`;

  if (!values.email) errors.email = 'letters.errors.emailBlank';
  else if (values.email.length > 254 || anyControl.test(values.email) || !emailFormat.safeParse(values.email).success) {
    errors.email = 'letters.errors.emailInvalid';
  }

  const place = placeProblem(values.town);
  if (charCount(values.town) > 80) errors.town = 'letters.errors.townTooLong';
  else if (place === 'control') errors.town = 'letters.errors.townInvalid';
  else if (place === 'url') errors.town = 'letters.errors.town_url';

  const words = charCount(values.ownWords);
  if (words === 0) errors.ownWords = 'letters.errors.ownWordsBlank';
  else if (words < ownWordsMin) errors.ownWords = 'letters.errors.ownWordsTooShort';
  else if (words > ownWordsMax) errors.ownWords = 'letters.errors.ownWordsTooLong';
  else if (controlInText.test(values.ownWords)) errors.ownWords = 'letters.errors.ownWordsInvalid';

  if (Object.keys(errors).length > 0) return { ok: false, values, errors };
  return { ok: true, values, honeypot: raw.website !== '' };
}

/** The letter's full text as edited on the preview: at most 20,000 characters. */
export function parseLetterBody(body: unknown): LetterBodyResult {
  const value = (body as Record<string, unknown> | null)?.body;
  const text = typeof value === 'string' ? lines(value).trim() : '';
  if (!text) return { ok: false, body: text, error: 'letters.errors.bodyBlank' };
  if (charCount(text) > bodyMax) return { ok: false, body: text, error: 'letters.errors.bodyTooLong' };
  if (controlInText.test(text)) return { ok: false, body: text, error: 'letters.errors.bodyInvalid' };
  return { ok: true, body: text };
}
