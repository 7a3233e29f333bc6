import { campaignTimeZone, dayMs } from '../time/dates';

/**
 * Closing dates are read and written in Brussels time, where the delegations sit and the campaign's
 * days are counted (the public delivery record's days are Brussels days too).
 */
export const closingTimeZone = campaignTimeZone;

/** The time a closing date gets when none is given: the end of that day. */
export const defaultClosingTime = '23:59';

const wallClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: closingTimeZone,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function partsOf(ms: number) {
  const parts = Object.fromEntries(wallClock.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far Brussels' clocks are ahead of UTC at an instant (ms). */
function offsetAt(ms: number): number {
  const p = partsOf(ms);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A date and time as typed in Brussels ('2026-06-24', '23:59') as an instant; undefined if no such time. */
export function brusselsInstant(date: string, time: string): number | undefined {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = /^(\d{1,2}):(\d{2})$/.exec(time);
  if (!d || !t) return undefined;
  const [year, month, dayOfMonth, hour, minute] = [d[1], d[2], d[3], t[1], t[2]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (hour > 23 || minute > 59) return undefined;
  const wall = Date.UTC(year, month - 1, dayOfMonth, hour, minute);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dayOfMonth) {
    return undefined; // 31 June and the like
  }
  // The offset at the guess, then again at the answer: right on either side of a clock change.
  let ms = wall - offsetAt(wall);
  ms = wall - offsetAt(ms);
  // A time skipped when the clocks go forward does not exist.
  return brusselsFields(ms).time === `${pad(hour)}:${pad(minute)}` ? ms : undefined;
}

/** An instant as the closing date form shows it: { date: 'YYYY-MM-DD', time: 'HH:MM' } in Brussels. */
export function brusselsFields(ms: number): { date: string; time: string } {
  const p = partsOf(ms);
  return { date: `${p.year}-${pad(p.month)}-${pad(p.day)}`, time: `${pad(p.hour)}:${pad(p.minute)}` };
}

/** Whole calendar days in Brussels from `now` to `then` (0: the same day). */
export function brusselsDaysBetween(now: number, then: number): number {
  const a = partsOf(now);
  const b = partsOf(then);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / dayMs);
}

/** Whether an open petition with this closing time is closed at `now`: readers ask this, not the row's state alone. */
export function closedBy(closesAt: number | null, now: number): boolean {
  return closesAt !== null && closesAt <= now;
}

/**
 * A petition as readers see it at `now`: open past its closing time is closed (at that time), even
 * before the background step has written so.
 */
export function asOf<T extends { state: 'open' | 'closed'; closesAt: number | null; closedAt: number | null }>(
  petition: T,
  now: number,
): T {
  if (petition.state !== 'open' || !closedBy(petition.closesAt, now)) return petition;
  return { ...petition, state: 'closed', closedAt: petition.closesAt };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The closing fields as the JSON and the API give them: a closing time only while it is ahead. */
export function closingFields(p: { state: 'open' | 'closed'; closesAt: number | null; closedAt: number | null }) {
  return {
    closesAt: p.state === 'open' ? iso(p.closesAt) : null,
    closedAt: p.state === 'closed' ? iso(p.closedAt) : null,
  };
}

/** When an open petition stops being open by itself (null: not open, or no closing date). */
export function openUntil(p: { state: 'open' | 'closed'; closesAt: number | null }): number | null {
  return p.state === 'open' ? p.closesAt : null;
}
