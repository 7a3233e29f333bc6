import type { Target } from '../targets/targetsRepository';
import type { Delivery } from './letterTypes';

/** How a delegation receives letters: by email, or on paper in its next hand-in pack. */
export type Channel = 'email' | 'post';

/** What the writer of a letter to a delegation on paper chooses: the pack (the default), or sending it themselves. */
export type PostChoice = 'post' | 'self';

/** Email when we know the delegation's address and it has not asked for paper; the pack otherwise. */
export function channelOf(target: Pick<Target, 'email' | 'forcePost'>): Channel {
  return target.email && !target.forcePost ? 'email' : 'post';
}

/** The letter's delivery: by email where the delegation takes it, else the writer's choice. */
export function deliveryFor(target: Pick<Target, 'email' | 'forcePost'>, choice: PostChoice): Delivery {
  return channelOf(target) === 'email' ? 'email' : choice;
}

/**
 * A postal address as the lines of an address block. Addresses are stored on one line, comma
 * separated (as organisers type and the CSV carries them), unless an organiser typed line breaks.
 */
export function addressLines(address: string | null): string[] {
  if (!address) return [];
  const parts = address.includes('\n') ? address.split(/\r?\n/) : address.split(/,\s*/);
  return parts.map((line) => line.trim()).filter(Boolean);
}
