import fc from 'fast-check';
import { exportFilename, isoSeconds, parseDay } from '../../server/console/exports/exportService';

describe('isoSeconds', () => {
  it('writes what Date#toISOString writes, to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(isoSeconds(ms)).toBe(`${new Date(ms).toISOString().slice(0, 19)}Z`);
      }),
    );
  });

  it('leaves a missing time empty', () => {
    expect(isoSeconds(null)).toBe('');
  });
});

describe('parseDay and exportFilename', () => {
  it('accept real dates only, as UTC days', () => {
    expect(parseDay('2026-03-31')).toBe(Date.parse('2026-03-31T00:00:00Z'));
    expect(parseDay('2026-02-30')).toBeUndefined();
    expect(parseDay('31/03/2026')).toBeUndefined();
    expect(exportFilename('x', Date.parse('2026-03-31T23:59:59Z'))).toBe('signatures-x-2026-03-31.csv');
  });
});
