import { parse } from 'csv-parse/sync';

/**
 * CSV the way spreadsheets read it safely: RFC 4180 quoting, and any cell that starts with = + - @,
 * a tab or a carriage return gets a leading apostrophe, so that Excel, LibreOffice or Sheets show it
 * as text instead of running it as a formula (SECURITY 9; OWASP "CSV injection"). csv-stringify does
 * not do the second part, so every CSV the project writes goes through `safeCell`.
 */

const formulaStart = /^[=+\-@\t\r]/;
const needsQuotes = /[",\r\n]/;

/** The value with a leading apostrophe if a spreadsheet would read it as a formula. */
export function neutralise(value: string): string {
  return formulaStart.test(value) ? `'${value}` : value;
}

/** What `neutralise` added, taken off again: for reading back a CSV this project wrote. */
export function unneutralise(value: string): string {
  return value.length > 1 && value[0] === "'" && formulaStart.test(value.slice(1)) ? value.slice(1) : value;
}

/** One cell, neutralised and quoted as RFC 4180 asks. null and undefined are empty cells. */
export function safeCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const text = neutralise(String(value));
  return needsQuotes.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRow(cells: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + safeCell(cells[i]);
  return `${line}\r\n`;
}

/**
 * Reads RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a BOM) into rows of cells, with
 * csv-parse. Throws on malformed input (a quote left open).
 */
export function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'] }) as string[][];
}
