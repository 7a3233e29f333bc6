/**
 * Reads CSV text the way a spreadsheet opens a .csv file with its own list separator (`;` in French,
 * German or Italian Excel; tab or `|` elsewhere): fields are split on `separator` and line breaks; a
 * quote is quoting only at the very start of a field (then `""` is a quote, and what follows the
 * closing quote up to the next separator is kept as it is); anywhere else it is a plain character.
 */
export function readAsSpreadsheet(text: string, separator: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] !== '"') cell += text[i];
        else if (text[i + 1] === '"') cell += text[i++];
        else {
          i++;
          break;
        }
      }
    }
    while (i < text.length && text[i] !== separator && text[i] !== '\r' && text[i] !== '\n') cell += text[i++];
    row.push(cell);
    if (text[i] === separator) {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    i++;
    rows.push(row);
    row = [];
    if (i >= text.length) return rows;
  }
}

/** Cells a spreadsheet would run as a formula: = + - @ first, perhaps after spaces it trims. */
export function formulaCells(rows: string[][]): string[] {
  return rows.flat().filter((cell) => /^\s*[=+\-@]/.test(cell));
}

/** The separators spreadsheets use when they open a .csv file, by locale and settings. */
export const separators = [',', ';', '\t', '|'];
