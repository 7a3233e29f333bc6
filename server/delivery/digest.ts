import crypto from 'node:crypto';
import { csvRow } from '../csv';
import { postcodeGoesToDelegations } from '../signatures/consent';
import type { BatchSigner } from './deliveryRepository';
import { isoDay } from '../time/dates';

export interface DigestCsv {
  csv: string;
  sha256: string;
}

/**
 * The attachment a delegation receives: only what a signer agreed to have passed on (name, country,
 * date signed, and their town or postcode if they gave it under a wording that said so), RFC 4180
 * quoting, formula-safe, in a stable order so a re-sent digest carries the same bytes and checksum.
 */
export function digestCsv(signers: BatchSigner[], countryName: (code: string) => string): DigestCsv {
  let csv = digestCsvHeader;
  for (const s of signers) csv += digestCsvRow(s, countryName);
  return { csv, sha256: crypto.createHash('sha256').update(csv, 'utf8').digest('hex') };
}

export const digestCsvHeader = csvRow(['name', 'postcode_or_town', 'country', 'date_signed']);

/** The postcode or town a delegation may see: only where the signer's wording said so. */
export function townFor(s: Pick<BatchSigner, 'postcode' | 'consentVersion'>): string | null {
  return postcodeGoesToDelegations(s.consentVersion) ? (s.postcode ?? null) : null;
}

/** One signer's row of the digest CSV (a hand-in pack's CSV is the same, written a page at a time). */
export function digestCsvRow(s: BatchSigner, countryName: (code: string) => string): string {
  return csvRow([s.name, townFor(s) ?? '', countryName(s.country), isoDay(s.validatedAt)]);
}
