import crypto from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import type { BatchSigner } from './deliveryRepository';

// Spreadsheets run a cell that starts with one of these as a formula (SECURITY 9): prefix a quote.
const formulaStart = /^[=+\-@\t\r]/;

export function safeCell(value: string): string {
  return formulaStart.test(value) ? `'${value}` : value;
}

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
  const rows = signers.map((s) => [
    safeCell(s.name),
    safeCell(s.postcode ?? ''),
    safeCell(countryName(s.country)),
    new Date(s.validatedAt).toISOString().slice(0, 10),
  ]);
  const csv = stringify([['name', 'postcode_or_town', 'country', 'date_signed'], ...rows], {
    record_delimiter: '\r\n',
  });
  return { csv, sha256: crypto.createHash('sha256').update(csv, 'utf8').digest('hex') };
}
