import type { Lang } from '../i18n/i18n';

/** A day in milliseconds (a UTC day: days in Brussels are 23 or 25 hours twice a year). */
export const dayMs = 24 * 60 * 60 * 1000;

/**
 * The campaign's time zone: the delegations sit in Brussels, so every day shown to people (pages,
 * mails, the console, hand-in packs and their CSV) is a day in Brussels, whatever the server's.
 * (Keys that are never shown, such as the day a letter is counted under for the per-address cap,
 * stay UTC days.)
 */
export const campaignTimeZone = 'Europe/Brussels';

const hourMs = 60 * 60 * 1000;
const longFormats = new Map<Lang, Intl.DateTimeFormat>();
const isoFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: campaignTimeZone,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
/** Formatted days by language and UTC hour (Brussels' offsets are whole hours): a pack of 10,000 rows has few. */
const formatted = new Map<string, string>();

/**
 * The day in Brussels as a British reader ("30 November 2026") or a French one ("30 novembre 2026",
 * "1er décembre 2026": the first of a month is an ordinal in French) expects.
 */
export function formatDay(ms: number, lang: Lang): string {
  // No date is no day: not today's, nor 1 January 1970's.
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new RangeError(`not a time: ${String(ms)}`);
  const key = `${lang}${Math.floor(ms / hourMs)}`;
  let text = formatted.get(key);
  if (text !== undefined) return text;
  let format = longFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      timeZone: campaignTimeZone,
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
    longFormats.set(lang, format);
  }
  text = format.format(ms);
  if (lang === 'fr') text = text.replace(/^1 /, '1er ');
  if (formatted.size > 4096) formatted.clear();
  formatted.set(key, text);
  return text;
}

/** The day in Brussels as YYYY-MM-DD: for a `<time datetime>`, a date field, a CSV, or "today". */
export function isoDay(ms: number): string {
  const parts = Object.fromEntries(isoFormat.formatToParts(ms).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const minuteFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: campaignTimeZone,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The minute in Brussels as YYYY-MM-DD HH:MM (the console's tables). */
export function isoMinute(ms: number): string {
  return `${isoDay(ms)} ${minuteFormat.format(ms)}`;
}
