import crypto from 'node:crypto';
import { csvRow } from '../exports/csv';
import type { BatchSigner } from './deliveryRepository';

export interface DigestCsv {
  csv: string;
  sha256: string;
}

/**
 * The attachment a delegation receives: only what a signer gave to be passed on (name, town or
 * postcode if given, country, date signed), RFC 4180 quoting, formula-safe, in a stable order so a
 * re-sent digest carries the same bytes and the same checksum.
 */
export function digestCsv(signers: BatchSigner[], countryName: (code: string) => string): DigestCsv {
  let csv = csvRow(['name', 'postcode_or_town', 'country', 'date_signed']);
  for (const s of signers) {
    csv += csvRow([
      s.name,
      s.postcode ?? '',
      countryName(s.country),
      new Date(s.validatedAt).toISOString().slice(0, 10),
    ]);
  }
  return { csv, sha256: crypto.createHash('sha256').update(csv, 'utf8').digest('hex') };
}
