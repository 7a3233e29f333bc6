import crypto from 'node:crypto';
import { csvRow } from '../csv';
import { postcodeGoesToDelegations } from '../signatures/consent';
import type { BatchSigner } from './deliveryRepository';

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
  let csv = csvRow(['name', 'postcode_or_town', 'country', 'date_signed']);
  for (const s of signers) {
    csv += csvRow([
      s.name,
      postcodeGoesToDelegations(s.consentVersion) ? (s.postcode ?? '') : '',
      countryName(s.country),
      new Date(s.validatedAt).toISOString().slice(0, 10),
    ]);
  }
  return { csv, sha256: crypto.createHash('sha256').update(csv, 'utf8').digest('hex') };
}
