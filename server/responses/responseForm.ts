import { responseChannels, type ResponseChannel } from './responsesRepository';

/** The console's response form as sent (a form with errors comes back with these values). */
export interface ResponseFormValues {
  /** A target's id. */
  target: string;
  /** What it answers: `petition:<slug>` or `demand:<slug>`. */
  about: string;
  /** YYYY-MM-DD */
  receivedOn: string;
  channel: string;
  body: string;
  link: string;
  isPublic: boolean;
}

export type ResponseErrors = Partial<Record<'target' | 'about' | 'receivedOn' | 'channel' | 'body' | 'link', string>>;

/** The order of the error summary: the order of the fields on the page. */
export const responseFields = ['target', 'about', 'receivedOn', 'channel', 'body', 'link'] as const;

export const bodyMax = 10_000;
const linkMax = 2_000;

export function parseResponseForm(body: unknown): ResponseFormValues {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (key: string, max: number) =>
    typeof b[key] === 'string' ? (b[key] as string).replace(/\r\n?/g, '\n').trim().slice(0, max) : '';
  return {
    target: text('target', 20),
    about: text('about', 200),
    receivedOn: text('receivedOn', 20),
    channel: text('channel', 40),
    // Kept a little longer than allowed, so that "too long" is said rather than the text cut.
    body: text('body', bodyMax + 1),
    link: text('link', linkMax + 1),
    isPublic: b.isPublic === 'on' || b.isPublic === 'yes' || b.isPublic === '1',
  };
}

/** A real day of the calendar, written YYYY-MM-DD. */
export function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}

/** An address a reader may follow: http or https only (no javascript:, data: or the like). */
export function isWebLink(value: string): boolean {
  if (!/^https?:\/\//i.test(value) || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const k = (name: string) => `responses.admin.errors.${name}`;

/**
 * Checks the form. `today` is the day (YYYY-MM-DD) in Brussels, where the delegations sit: an
 * answer cannot have arrived after it.
 */
export function validateResponse(
  values: ResponseFormValues,
  known: { target: boolean; about: boolean },
  today: string,
): ResponseErrors {
  const errors: ResponseErrors = {};
  if (!values.target) errors.target = k('targetMissing');
  else if (!known.target) errors.target = k('targetUnknown');
  if (!values.about) errors.about = k('aboutMissing');
  else if (!known.about) errors.about = k('aboutUnknown');
  if (!values.receivedOn) errors.receivedOn = k('dateMissing');
  else if (!isDay(values.receivedOn)) errors.receivedOn = k('dateInvalid');
  else if (values.receivedOn > today) errors.receivedOn = k('dateFuture');
  if (!(responseChannels as readonly string[]).includes(values.channel)) errors.channel = k('channel');
  if (!values.body) errors.body = k('bodyMissing');
  else if (values.body.length > bodyMax) errors.body = k('bodyLong');
  if (values.link && values.link.length > linkMax) errors.link = k('linkLong');
  else if (values.link && !isWebLink(values.link)) errors.link = k('linkInvalid');
  return errors;
}

export const isChannel = (value: string): value is ResponseChannel =>
  (responseChannels as readonly string[]).includes(value);
