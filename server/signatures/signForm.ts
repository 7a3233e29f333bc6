import { z } from 'zod';
import { nameProblem, placeProblem } from '../security/nameRules';
import { sourceFromForm } from '../sources/sourceCode';

/** What the form sends back to the page: every value as typed, so nothing is lost on an error. */
export interface SignFormValues {
  name: string;
  email: string;
  country: string;
  postcode: string;
  showPublicly: boolean;
  updates: boolean;
  /** Where the signer came from (a hidden field: server/sources/sourceCode.ts); '' when unknown. */
  source?: string;
}

export type SignField = 'name' | 'email' | 'country' | 'postcode';

/** Field → the i18n key of a message written as an instruction. */
export type SignErrors = Partial<Record<SignField, string>>;

export type SignFormResult =
  { ok: true; values: SignFormValues; honeypot: boolean } | { ok: false; values: SignFormValues; errors: SignErrors };

// Anything that is not a string (an array from `name[]=`, say) counts as blank; lengths are checked below.
const text = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === 'string' ? v.trim() : ''));
const checkbox = z
  .unknown()
  .optional()
  .transform((v) => v === 'on' || v === '1' || v === 'yes');

const fields = z.object({
  name: text,
  email: text,
  country: text,
  postcode: text,
  showPublicly: checkbox,
  updates: checkbox,
  source: z.unknown().optional(),
  website: text, // the honeypot: invisible to people, filled by naive bots
});

const emailFormat = z.email();

/**
 * Picks only the known fields (posting `state`, `id` or `__proto__` changes nothing) and checks each,
 * answering with the values as typed and one instruction per field in error.
 */
export function parseSignForm(body: unknown, countryCodes: ReadonlySet<string>): SignFormResult {
  const raw = fields.parse(typeof body === 'object' && body !== null ? body : {});
  const values: SignFormValues = {
    name: raw.name.slice(0, 400),
    email: raw.email.slice(0, 400),
    country: raw.country.slice(0, 8).toUpperCase(),
    postcode: raw.postcode.slice(0, 200),
    showPublicly: raw.showPublicly,
    updates: raw.updates,
    source: sourceFromForm(raw.source),
  };
  const errors: SignErrors = {};
  const problem = nameProblem(values.name);
  if (!values.name) errors.name = 'sign.errors.nameBlank';
  else if (values.name.length > 100) errors.name = 'sign.errors.nameTooLong';
  else if (problem) errors.name = `sign.errors.name_${problem}`;

  if (!values.email) errors.email = 'sign.errors.emailBlank';
  else if (values.email.length > 254 || !emailFormat.safeParse(values.email).success) {
    errors.email = 'sign.errors.emailInvalid';
  }

  if (!values.country) errors.country = 'sign.errors.countryBlank';
  else if (!countryCodes.has(values.country)) errors.country = 'sign.errors.countryInvalid';

  const place = placeProblem(values.postcode);
  if (values.postcode.length > 50) errors.postcode = 'sign.errors.postcodeTooLong';
  else if (place === 'control') errors.postcode = 'sign.errors.postcodeInvalid';
  else if (place === 'url') errors.postcode = 'sign.errors.postcode_url';

  if (Object.keys(errors).length > 0) return { ok: false, values, errors };
  return { ok: true, values, honeypot: raw.website !== '' };
}
