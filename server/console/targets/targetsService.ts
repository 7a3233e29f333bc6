import { z } from 'zod';
import { csvRow, parseCsv, unneutralise } from '../../csv';
import type { Executor } from '../../db/store';
import {
  deliveryChannel,
  targetKinds,
  targetsRepository,
  type TargetFields,
  type TargetKind,
} from '../../targets/targetsRepository';

export interface TargetFormValues {
  kind: string;
  country: string;
  name: string;
  languages: string;
  email: string;
  website: string;
  /** As typed: one part a line, or parts separated by commas. Stored as comma-separated parts. */
  postalAddress: string;
  forcePost: boolean;
}

export type TargetErrors = Partial<Record<keyof TargetFormValues, string>>;

/** The columns of the targets CSV, exported and imported alike. `default` is shown, never imported. */
export const targetColumns = [
  'id',
  'country',
  'kind',
  'name',
  'languages',
  'email',
  'website',
  'postal_address',
  'force_post',
  'default',
] as const;
/** Columns an import may leave out (files exported before they existed): an existing target keeps its values. */
const optionalColumns = new Set<string>(['id', 'default', 'postal_address', 'force_post']);
/** The CSV column a form field is read from, to name it in an import's errors. */
const columnOf: Partial<Record<keyof TargetFormValues, string>> = {
  postalAddress: 'postal_address',
  forcePost: 'force_post',
};

/** "Delegation\nNATO HQ, 1110 Brussels" → "Delegation, NATO HQ, 1110 Brussels": one part per line or comma. */
export function postalParts(text: string): string[] {
  return text
    .split(/\r\n|\r|\n|,/)
    .map((part) => part.trim())
    .filter(Boolean);
}

const yes = new Set(['yes', 'y', 'true', '1', 'oui']);
const no = new Set(['no', 'n', 'false', '0', 'non', '']);

const emailFormat = z.email();
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function parseTargetForm(body: unknown): TargetFormValues {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (key: string, max: number) =>
    typeof b[key] === 'string' ? (b[key] as string).trim().slice(0, max) : '';
  return {
    kind: text('kind', 40),
    country: text('country', 8).toUpperCase(),
    name: text('name', 400),
    languages: text('languages', 200),
    email: text('email', 400),
    website: text('website', 600),
    postalAddress: text('postalAddress', 1000),
    forcePost: b.forcePost === 'on' || b.forcePost === 'yes' || b.forcePost === '1',
  };
}

/** Whether a row of an import would change nothing (re-importing an export is a no-op). */
function same(t: TargetFields, fields: TargetFields): boolean {
  return (
    t.kind === fields.kind &&
    t.country === fields.country &&
    t.name === fields.name &&
    t.languages.join(',') === fields.languages.join(',') &&
    t.email === fields.email &&
    t.website === fields.website &&
    (t.postalAddress ?? null) === (fields.postalAddress ?? null) &&
    Boolean(t.forcePost) === Boolean(fields.forcePost)
  );
}

export type TargetsService = ReturnType<typeof createTargetsService>;

export function createTargetsService(store: Executor, clock: () => number = Date.now) {
  const repo = targetsRepository(store);
  const e = (key: string) => `admin.targets.errors.${key}`;

  /** Checks one target's values; the same rules for the form and for each imported row. */
  function check(values: TargetFormValues, countries: Set<string>): { fields?: TargetFields; errors: TargetErrors } {
    const errors: TargetErrors = {};
    if (!(targetKinds as readonly string[]).includes(values.kind)) errors.kind = e('kind');
    if (!countries.has(values.country)) errors.country = e('country');
    if (!values.name) errors.name = e('nameBlank');
    else if (values.name.length > 200) errors.name = e('nameTooLong');
    else if (controlChars.test(values.name)) errors.name = e('nameControl');
    const languages = values.languages
      .toLowerCase()
      .split(/[\s,;]+/)
      .filter(Boolean);
    if (languages.some((l) => !/^[a-z]{2,3}$/.test(l))) errors.languages = e('languages');
    // The address is what delivery sends to: CR/LF or anything odd in it is refused (SECURITY 8).
    if (values.email && (values.email.length > 254 || !emailFormat.safeParse(values.email).success)) {
      errors.email = e('email');
    }
    if (values.website && (!/^https?:\/\/[^\s]+$/i.test(values.website) || values.website.length > 500)) {
      errors.website = e('website');
    }
    const postal = postalParts(values.postalAddress).join(', ');
    // Printed on an envelope and in a pack: no control characters, and a sensible length.
    if (postal.length > 500) errors.postalAddress = e('postalTooLong');
    else if (controlChars.test(postal)) errors.postalAddress = e('postalControl');
    else if (values.forcePost && !postal) errors.postalAddress = e('postalForPost');
    if (Object.keys(errors).length > 0) return { errors };
    return {
      errors,
      fields: {
        kind: values.kind as TargetKind,
        country: values.country,
        name: values.name,
        languages: [...new Set(languages)],
        email: values.email || null,
        website: values.website || null,
        postalAddress: postal || null,
        forcePost: values.forcePost,
      },
    };
  }

  return {
    /** Every target, with the channel its deliveries take. */
    list: async () => (await repo.list()).map((t) => ({ ...t, channel: deliveryChannel(t) })),
    /** The same, synchronously: a shim for the console's petition routes until they move to the store. */
    find: (id: number) => repo.findById(id),
    countriesWithoutAddress: () => repo.countriesWithoutAddress(),

    async valuesOf(id: number): Promise<TargetFormValues | undefined> {
      const t = await repo.findById(id);
      if (!t) return undefined;
      return {
        kind: t.kind,
        country: t.country,
        name: t.name,
        languages: t.languages.join(', '),
        email: t.email ?? '',
        website: t.website ?? '',
        postalAddress: t.postalAddress ?? '',
        forcePost: t.forcePost,
      };
    },

    async save(
      id: number | undefined,
      values: TargetFormValues,
    ): Promise<{ ok: true; id: number } | { ok: false; errors: TargetErrors }> {
      const { fields, errors } = check(values, await repo.countryCodes());
      if (!fields) return { ok: false, errors };
      if (id === undefined) return { ok: true, id: await repo.create(fields, clock()) };
      if (!(await repo.update(id, fields, clock()))) return { ok: false, errors: {} };
      return { ok: true, id };
    },

    /** Every target as CSV text (small: one row per addressee). */
    async exportCsv(): Promise<string> {
      return (
        csvRow([...targetColumns]) +
        (await repo.list())
          .map((t) =>
            csvRow([
              t.id,
              t.country,
              t.kind,
              t.name,
              t.languages.join(','),
              t.email ?? '',
              t.website ?? '',
              t.postalAddress ?? '',
              t.forcePost ? 'yes' : 'no',
              t.isDefault ? 'yes' : 'no',
            ]),
          )
          .join('')
      );
    },

    /**
     * Applies a CSV in the export's format: a row with an id updates that target, a row without one
     * adds a target. Every row is checked first; one bad row and nothing changes.
     */
    async importCsv(
      text: string,
    ): Promise<
      | { ok: true; created: number; updated: number }
      | { ok: false; errors: Array<{ line: number; messageKey: string; field?: string }> }
    > {
      let rows: string[][];
      try {
        rows = parseCsv(text.replace(/^\uFEFF/, ''));
      } catch {
        return { ok: false, errors: [{ line: 1, messageKey: e('csvMalformed') }] };
      }
      rows = rows.filter((r) => r.some((cell) => cell.trim() !== ''));
      const header = rows.shift()?.map((h) => h.trim().toLowerCase());
      const missing = targetColumns.filter((c) => !optionalColumns.has(c) && !header?.includes(c));
      if (!header || missing.length > 0) return { ok: false, errors: [{ line: 1, messageKey: e('csvHeader') }] };
      const at = (row: string[], column: string) => unneutralise(row[header.indexOf(column)] ?? '').trim();
      const countries = await repo.countryCodes();
      // Read once: an import is at most a few hundred rows, and every one is checked against these.
      const existing = new Map((await repo.list()).map((t) => [t.id, t]));
      const errors: Array<{ line: number; messageKey: string; field?: string }> = [];
      const changes: Array<{ id: number | undefined; fields: TargetFields }> = [];
      rows.forEach((row, i) => {
        const line = i + 2;
        const idText = header.includes('id') ? at(row, 'id') : '';
        const id = idText ? Number(idText) : undefined;
        if (idText && (!Number.isInteger(id) || !existing.has(id!))) {
          errors.push({ line, messageKey: e('csvUnknownId') });
          return;
        }
        const current = id === undefined ? undefined : existing.get(id);
        // A column the file leaves out keeps what the target has (a new one: none, and by email).
        const postalAddress = header.includes('postal_address')
          ? at(row, 'postal_address')
          : (current?.postalAddress ?? '');
        const forcePostText = header.includes('force_post') ? at(row, 'force_post').toLowerCase() : undefined;
        if (forcePostText !== undefined && !yes.has(forcePostText) && !no.has(forcePostText)) {
          errors.push({ line, field: 'force_post', messageKey: e('forcePost') });
          return;
        }
        const result = check(
          {
            kind: at(row, 'kind'),
            country: at(row, 'country').toUpperCase(),
            name: at(row, 'name'),
            languages: at(row, 'languages'),
            email: at(row, 'email'),
            website: at(row, 'website'),
            postalAddress,
            forcePost: forcePostText === undefined ? (current?.forcePost ?? false) : yes.has(forcePostText),
          },
          countries,
        );
        if (!result.fields) {
          for (const [field, messageKey] of Object.entries(result.errors)) {
            errors.push({ line, field: columnOf[field as keyof TargetFormValues] ?? field, messageKey });
          }
        } else if (id === undefined || !same(existing.get(id)!, result.fields))
          changes.push({ id, fields: result.fields });
      });
      if (errors.length > 0) return { ok: false, errors: errors.slice(0, 50) };
      const now = clock();
      let created = 0;
      let updated = 0;
      // Applied whole or not at all.
      await store.transaction(async (tx) => {
        const targets = targetsRepository(tx);
        for (const change of changes) {
          if (change.id === undefined) {
            await targets.create(change.fields, now);
            created++;
          } else if (await targets.update(change.id, change.fields, now)) updated++;
        }
      });
      return { ok: true, created, updated };
    },
  };
}
