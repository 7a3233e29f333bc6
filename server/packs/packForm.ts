import type { HandInHow } from './packsRepository';
import { isoDay } from '../time/dates';

export const handInHows: readonly HandInHow[] = ['handed-in', 'post', 'courier'];
export const recordFields = ['date', 'how', 'reference', 'note'] as const;

/** The record form as typed: re-rendered with these values when something is wrong. */
export interface RecordFormValues {
  date: string;
  how: string;
  reference: string;
  note: string;
}

export type RecordErrors = Partial<Record<(typeof recordFields)[number], string>>;

export interface HandIn {
  /** The day it happened, midnight UTC, epoch ms. */
  handedInAt: number;
  how: HandInHow;
  reference: string | null;
  note: string | null;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

export function readRecordForm(body: unknown): RecordFormValues {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    date: text(b.date).trim(),
    how: text(b.how),
    reference: text(b.reference).trim(),
    note: text(b.note).trim(),
  };
}

// Nothing a record may hold is multi-line but the note; nothing holds other control characters.
const hasControls = (value: string, lineBreaks: boolean) =>
  [...value].some((c) => {
    const code = c.charCodeAt(0);
    if (c === '\n' || c === '\r' || c === '\t') return !lineBreaks && c !== '\t';
    return code < 0x20 || code === 0x7f;
  });

/** The date (a day, required, not after today), how, an optional reference and note; or what is wrong. */
export function parseRecordForm(
  values: RecordFormValues,
  now: number,
): { ok: true; handIn: HandIn } | { ok: false; errors: RecordErrors } {
  const errors: RecordErrors = {};
  let handedInAt = NaN;
  if (!values.date) errors.date = 'packs.errors.dateMissing';
  else {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(values.date);
    handedInAt = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
    if (!m || new Date(handedInAt).toISOString().slice(0, 10) !== values.date) errors.date = 'packs.errors.dateInvalid';
    // Today in Brussels, where packs are handed in: at 00:30 there on 1 December it is still 30 November in UTC.
    else if (values.date > isoDay(now)) errors.date = 'packs.errors.dateFuture';
  }
  if (!(handInHows as readonly string[]).includes(values.how)) errors.how = 'packs.errors.howInvalid';
  if (values.reference.length > 200 || hasControls(values.reference, false)) {
    errors.reference = 'packs.errors.referenceInvalid';
  }
  if (values.note.length > 2000 || hasControls(values.note, true)) errors.note = 'packs.errors.noteInvalid';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    handIn: {
      handedInAt,
      how: values.how as HandInHow,
      reference: values.reference || null,
      note: values.note || null,
    },
  };
}
