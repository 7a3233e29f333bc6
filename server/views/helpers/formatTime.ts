import { brusselsFields } from '../../petitions/closingDate';

/** `{{formatTime ms}}`: the time of day in Brussels, on the 24-hour clock ("23:59") in both languages. */
export function formatTime(ms: number): string {
  return brusselsFields(ms).time;
}
