import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { csvRow, neutralise, parseCsv, safeCell, unneutralise } from '../../server/csv';
import { formulaCells, readAsSpreadsheet, separators } from '../helpers/spreadsheet';

describe('safeCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+33 1 23 45 67 89', "'+33 1 23 45 67 89"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['Zoë Łukasz 李雷', 'Zoë Łukasz 李雷'],
    ['Ana-María Pérez', 'Ana-María Pérez'],
    ['a;b', '"a;b"'],
    ['a|b', '"a|b"'],
    ['a\tb', '"a\tb"'],
    ['Jean;=1+1;', `"Jean;'=1+1;"`],
    ['x|@SUM(A1)', `"x|'@SUM(A1)"`],
    ['x,+1', `"x,'+1"`],
    ['x\n=1', `"x\n'=1"`],
    ['x; -1', `"x;' -1"`],
    ['x;"=1"', `"x;'""=1"""`],
    ["'=1", "''=1"],
  ])('writes %j as %j', (value, cell) => {
    expect(safeCell(value)).toBe(cell);
  });

  it('writes numbers as they are and null as an empty cell', () => {
    expect(csvRow([-3, null, undefined, 'x'])).toBe('-3,,,x\r\n');
  });

  it('gives a spreadsheet that splits on ";" no formula in "Jean;=1+1;"', () => {
    const line = csvRow(['fund-defence-fairly', 'Jean;=1+1;', 'FR']);
    const cells = readAsSpreadsheet(line, ';');
    // The piece after the first ";" is a cell of its own there: it shows as text.
    expect(cells[0]!.slice(0, 2)).toEqual(['fund-defence-fairly,"Jean', "'=1+1"]);
    expect(formulaCells(cells)).toEqual([]);
    expect(readAsSpreadsheet(line, ',')).toEqual([['fund-defence-fairly', "Jean;'=1+1;", 'FR']]);
  });

  // Strings made mostly of what matters here: separators, line breaks, quotes, formula characters.
  const tricky = fc.string({
    unit: fc.oneof(
      fc.constantFrom(',', ';', '\t', '|', '\r', '\n', '"', "'", ' ', '\u00a0', '=', '+', '-', '@', 'a'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  });

  it('never lets a spreadsheet see a formula, whatever separator it splits on', () => {
    fc.assert(
      fc.property(fc.array(tricky, { minLength: 1, maxLength: 4 }), (values) => {
        const line = csvRow(values);
        for (const separator of separators) {
          expect([separator, formulaCells(readAsSpreadsheet(line, separator))]).toEqual([separator, []]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back exactly, with the apostrophes it added taken off', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(tricky, fc.string({ unit: 'grapheme' })), { minLength: 1, maxLength: 6 }),
        (values) => {
          const line = csvRow(values);
          const [parsed] = parse(line) as string[][];
          expect(parseCsv(line)).toEqual([parsed]);
          expect(parsed!.map(unneutralise)).toEqual(values);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('neutralise and unneutralise', () => {
  it('only touch formula starts, at the start and after each separator', () => {
    expect(neutralise("'quoted")).toBe("'quoted");
    expect(unneutralise("'quoted")).toBe("'quoted");
    expect(unneutralise("'=x")).toBe('=x');
    expect(neutralise('Jean;=1+1;')).toBe("Jean;'=1+1;");
    expect(unneutralise("Jean;'=1+1;")).toBe('Jean;=1+1;');
    expect(neutralise('\t\t=1')).toBe("'\t'\t'=1");
    expect(unneutralise("'\t'\t'=1")).toBe('\t\t=1');
  });
});

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF and LF, and a last line without a newline', () => {
    expect(parseCsv('a,"b,c","say ""hi"""\r\n1,"two\r\nlines",3\nlast,,')).toEqual([
      ['a', 'b,c', 'say "hi"'],
      ['1', 'two\r\nlines', '3'],
      ['last', '', ''],
    ]);
  });

  it('refuses a quote left open', () => {
    expect(() => parseCsv('a,"b\r\n')).toThrow();
  });
});
