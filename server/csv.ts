import { parse } from 'csv-parse/sync';

/**
 * CSV the way spreadsheets read it safely: RFC 4180 quoting, and nothing a spreadsheet would run as a
 * formula (SECURITY 9; OWASP "CSV injection"). csv-stringify does not do the second part, so every
 * CSV the project writes goes through `safeCell`.
 *
 * A spreadsheet does not always split on commas: French, German or Italian Excel splits on `;` (the
 * "list separator"), others on tabs or `|`, and such a reader takes a quote as quoting only at the
 * start of a field. So a cell `Jean;=1+1` read with `;` becomes the fields `Jean` and `=1+1`, however
 * it is quoted. Hence: any cell holding a separator or a line break is quoted, and a leading
 * apostrophe goes before the start of the cell and before every piece that follows a separator or a
 * line break, when that piece starts with = + - @, a tab or a carriage return (possibly behind
 * white space, quotes or apostrophes). Excel, LibreOffice and Sheets show such a piece as text.
 */

// A piece starts the cell or follows a `,` `;` tab `|` or line break. Before its formula character
// there may be white space (some readers trim it), quotes (a reader takes them as quoting) and
// apostrophes (so that `'=x` is written `''=x` and reads back exactly).
const formulaStart = /^[\s'"]*[=+\-@\t\r]/;
const separator = /[,;\t|\r\n]/;
const formulaPieces = /(?<=^|[,;\t|\r\n])(?=[\s'"]*[=+\-@\t\r])/g;
const addedApostrophes = /(?<=^|[,;\t|\r\n])'(?=[\s'"]*[=+\-@\t\r])/g;
const needsQuotes = /[",;\t|\r\n]/;

/** The value with an apostrophe before each piece that a spreadsheet would read as a formula. */
export function neutralise(value: string): string {
  // Most cells neither start like a formula nor hold a separator: two quick tests, no replace.
  return formulaStart.test(value) || separator.test(value) ? value.replace(formulaPieces, "'") : value;
}

/** What `neutralise` added, taken off again: for reading back a CSV this project wrote. */
export function unneutralise(value: string): string {
  return value.includes("'") ? value.replace(addedApostrophes, '') : value;
}

/** One cell, neutralised, and quoted when it holds a quote, a separator or a line break. */
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
