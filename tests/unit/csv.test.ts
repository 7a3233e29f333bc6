import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { csvRow, neutralise, parseCsv, safeCell, unneutralise } from '../../server/exports/csv';

describe('safeCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+33 1 23 45 67 89', "'+33 1 23 45 67 89"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['Zoë Łukasz 李雷', 'Zoë Łukasz 李雷'],
  ])('writes %j as %j', (value, cell) => {
    expect(safeCell(value)).toBe(cell);
  });

  it('writes numbers as they are and null as an empty cell', () => {
    expect(csvRow([-3, null, undefined, 'x'])).toBe('-3,,,x\r\n');
  });

  it('never lets a spreadsheet see a formula, and reads back to the value with the apostrophe taken off', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 6 }), (values) => {
        const line = csvRow(values);
        const [parsed] = parse(line) as string[][];
        expect(parsed!.every((cell) => !/^[=+\-@\t\r]/.test(cell))).toBe(true);
        expect(parseCsv(line)).toEqual([parsed]);
        expect(parsed!.map(unneutralise)).toEqual(values.map((v) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v)));
      }),
    );
  });
});

describe('neutralise and unneutralise', () => {
  it('only touch formula starts', () => {
    expect(neutralise("'quoted")).toBe("'quoted");
    expect(unneutralise("'quoted")).toBe("'quoted");
    expect(unneutralise("'=x")).toBe('=x');
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
