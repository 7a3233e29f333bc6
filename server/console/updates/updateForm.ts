import type { UpdateDraft } from '../../updates/updatesRepository';
import { refusedLinks } from '../../updates/markdown';

export interface UpdateFormValues {
  subjectEn: string;
  bodyEn: string;
  subjectFr: string;
  bodyFr: string;
  countries: string[];
  key: string;
}

/** A draft the composer opens with, for one petition ("Tell the signers" on a delegation's answer). */
export interface UpdatePrefill {
  petitionSlug: string;
  values: Pick<UpdateFormValues, 'subjectEn' | 'bodyEn' | 'subjectFr' | 'bodyFr' | 'countries'>;
}

export type UpdateErrors = Partial<Record<'subjectEn' | 'bodyEn' | 'subjectFr' | 'bodyFr' | 'countries', string>>;

export const updateFields = ['subjectEn', 'bodyEn', 'subjectFr', 'bodyFr', 'countries'] as const;

const text = (v: unknown) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n') : '');

/** The composer's fields as sent (never thrown away: a form with errors comes back with them). */
export function parseUpdateForm(body: unknown): UpdateFormValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const list = Array.isArray(b.countries) ? b.countries : b.countries === undefined ? [] : [b.countries];
  return {
    subjectEn: text(b.subjectEn).trim(),
    bodyEn: text(b.bodyEn),
    subjectFr: text(b.subjectFr).trim(),
    bodyFr: text(b.bodyFr),
    countries: [...new Set(list.filter((c): c is string => typeof c === 'string' && /^[A-Z]{2}$/.test(c)))].sort(),
    key: typeof b.key === 'string' && /^[\w-]{16,64}$/.test(b.key) ? b.key : '',
  };
}

const k = (name: string) => `admin.updates.errors.${name}`;

/** Checks the composer; `known` are the countries the audience may be narrowed to. */
export function validateUpdate(values: UpdateFormValues, known: Set<string>): UpdateErrors {
  const errors: UpdateErrors = {};
  if (!values.subjectEn) errors.subjectEn = k('subjectMissing');
  else if (values.subjectEn.length > 150) errors.subjectEn = k('subjectLong');
  if (!values.bodyEn.trim()) errors.bodyEn = k('bodyMissing');
  else if (values.bodyEn.length > 20_000) errors.bodyEn = k('bodyLong');
  else if (refusedLinks(values.bodyEn).length > 0) errors.bodyEn = k('badLink');
  const fr = values.subjectFr !== '' || values.bodyFr.trim() !== '';
  if (fr && !values.subjectFr) errors.subjectFr = k('frSubjectMissing');
  else if (values.subjectFr.length > 150) errors.subjectFr = k('subjectLong');
  if (fr && !values.bodyFr.trim()) errors.bodyFr = k('frBodyMissing');
  else if (values.bodyFr.length > 20_000) errors.bodyFr = k('bodyLong');
  else if (refusedLinks(values.bodyFr).length > 0) errors.bodyFr = k('badLink');
  if (values.countries.some((c) => !known.has(c))) errors.countries = k('countryUnknown');
  return errors;
}

export function draftOf(petitionId: number, v: UpdateFormValues): UpdateDraft {
  return {
    petitionId,
    subjectEn: v.subjectEn,
    bodyEn: v.bodyEn,
    subjectFr: v.subjectFr,
    bodyFr: v.bodyFr,
    countries: v.countries,
  };
}
