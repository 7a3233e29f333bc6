import type { Executor } from '../db/store';
import type { Lang } from '../i18n/i18n';
import { isoDay } from '../time/dates';
import { deliveryRecordRepository, type BatchState, type Channel, type DeliveryRow } from './deliveryRecordRepository';

/** The short address printed in a pack, /verify/<first 12 hex digits of the CSV's SHA-256>. */
export const shortShaLength = 12;

/** A delivery as the public record shows it: which delegation, when, how, how many, and the CSV's hash. */
export interface PublicDelivery {
  batchId: number;
  delegation: string;
  country: string;
  /** The delegation's own page, when the batch went to its country's delegation. */
  delegationPath: string | null;
  channel: Channel;
  /** A digest's moment of sending, a pack's day of hand-in (epoch ms). */
  at: number;
  /** The same day as YYYY-MM-DD, in Brussels, where the delegations sit. */
  date: string;
  signatures: number;
  letters: number;
  sha256: string | null;
  shortSha: string | null;
}

export interface VerifiedBatch extends PublicDelivery {
  state: BatchState;
  delivered: boolean;
  petitionSlug: string;
  petitionTitle: string;
  invalidated: number;
}

export type Verification =
  | { kind: 'malformed'; input: string }
  | { kind: 'unknown'; sha: string }
  | { kind: 'found'; sha: string; batches: VerifiedBatch[] };

export type Standing =
  | { kind: 'waiting'; delegation: string; country: string }
  | { kind: 'delivered'; delegation: string; country: string; channel: Channel; at: number; batchId: number };

/**
 * A SHA-256 as someone may type or paste it: spaces, line breaks and upper case are fine. The whole
 * 64 hex digits, or a prefix of at least 12 (the short address); anything else is undefined.
 */
export function parseSha(input: string): string | undefined {
  const hex = input.replace(/\s+/g, '').toLowerCase();
  return /^[0-9a-f]{12,64}$/.test(hex) ? hex : undefined;
}

/** When a delivery reached its delegation: the recorded hand-in day of a pack, else the sending. */
function deliveredAt(row: Pick<DeliveryRow, 'channel' | 'sentAt' | 'handedInAt'>): number | null {
  return row.channel === 'post' ? (row.handedInAt ?? row.sentAt) : row.sentAt;
}

function toPublic(row: DeliveryRow, at: number): PublicDelivery {
  return {
    batchId: row.batchId,
    delegation: row.delegation,
    country: row.country,
    delegationPath: Number(row.isDefault) === 1 ? `/delegations/${row.country.toLowerCase()}` : null,
    channel: row.channel,
    at,
    date: isoDay(at),
    signatures: row.signatures,
    letters: row.letters,
    sha256: row.sha256,
    shortSha: row.sha256 ? row.sha256.slice(0, shortShaLength) : null,
  };
}

/** At most this many rows on a page; the JSON has them all. */
const shownOnPage = 50;

/** The "Deliveries" section of a petition's or a demand's page (views/partials/deliveries.hbs). */
export function deliveriesView(petitionSlug: string, deliveries: PublicDelivery[]) {
  return {
    rows: deliveries.slice(0, shownOnPage),
    total: deliveries.length,
    more: deliveries.length > shownOnPage,
    jsonUrl: `/petitions/${petitionSlug}/deliveries.json`,
  };
}

export type DeliveryRecord = ReturnType<typeof createDeliveryRecord>;

/**
 * The public delivery record: what each petition has delivered, a batch found by its CSV's SHA-256,
 * and where one signature stands. Nothing here names or counts a person beyond the batch totals.
 */
export function createDeliveryRecord(deps: { store: Executor }) {
  const repo = deliveryRecordRepository(deps.store);
  return {
    /** A petition's deliveries, newest first (only batches sent or recorded as handed in). */
    async forPetition(petitionId: number): Promise<PublicDelivery[]> {
      const rows = await repo.sentForPetition(petitionId);
      return rows.flatMap((row) => {
        const at = deliveredAt(row);
        return at === null ? [] : [toPublic(row, at)];
      });
    },

    /** What one target received, every petition, newest first, each with its petition's title. */
    async forTarget(
      targetId: number,
      lang: Lang,
    ): Promise<Array<PublicDelivery & { petitionSlug: string; petitionTitle: string }>> {
      const rows = await repo.sentToTarget(targetId, lang);
      return rows.flatMap((row) => {
        const at = deliveredAt(row);
        return at === null
          ? []
          : [{ ...toPublic(row, at), petitionSlug: row.petitionSlug, petitionTitle: row.petitionTitle }];
      });
    },

    async verify(input: string, lang: Lang): Promise<Verification> {
      const sha = parseSha(input);
      if (!sha) return { kind: 'malformed', input };
      const rows = await repo.byShaPrefix(sha, lang);
      const batches: VerifiedBatch[] = rows.map((row) => {
        const delivered = row.state === 'sent';
        return {
          ...toPublic(row, (delivered ? deliveredAt(row) : null) ?? row.createdAt),
          state: row.state,
          delivered,
          petitionSlug: row.petitionSlug,
          petitionTitle: row.petitionTitle,
          invalidated: row.invalidated,
        };
      });
      return batches.length > 0 ? { kind: 'found', sha, batches } : { kind: 'unknown', sha };
    },

    /** Where a validated signature stands for its country's delegation; undefined when there is none. */
    async standing(signatureId: number, country: string): Promise<Standing | undefined> {
      const row = await repo.standing(signatureId, country);
      if (!row) return undefined;
      const at = row.state === 'sent' && row.channel ? deliveredAt({ ...row, channel: row.channel }) : null;
      if (at === null || row.batchId === null || !row.channel) {
        return { kind: 'waiting', delegation: row.delegation, country: row.country };
      }
      return {
        kind: 'delivered',
        delegation: row.delegation,
        country: row.country,
        channel: row.channel,
        at,
        batchId: row.batchId,
      };
    },
  };
}
