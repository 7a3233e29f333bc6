import { dayMs, formatDay, isoDay, isoMinute } from '../../server/time/dates';

describe('formatDay', () => {
  it('writes the day in Brussels: 23:30 UTC on 30 November is already 1 December there', () => {
    const lateOn30th = Date.UTC(2026, 10, 30, 23, 30);
    expect(formatDay(lateOn30th, 'en')).toBe('1 December 2026');
    expect(formatDay(lateOn30th, 'fr')).toBe('1er décembre 2026');
    expect(isoDay(lateOn30th)).toBe('2026-12-01');
  });

  it('keeps the day until midnight in Brussels (22:59 UTC in winter)', () => {
    const beforeMidnight = Date.UTC(2026, 10, 30, 22, 59);
    expect(formatDay(beforeMidnight, 'en')).toBe('30 November 2026');
    expect(formatDay(beforeMidnight, 'fr')).toBe('30 novembre 2026');
    expect(isoDay(beforeMidnight)).toBe('2026-11-30');
  });

  it('follows summer time: midnight in Brussels is 22:00 UTC in June', () => {
    expect(formatDay(Date.UTC(2026, 5, 14, 21, 59), 'en')).toBe('14 June 2026');
    expect(formatDay(Date.UTC(2026, 5, 14, 22, 0), 'en')).toBe('15 June 2026');
    expect(formatDay(Date.UTC(2026, 5, 14, 22, 0), 'fr')).toBe('15 juin 2026');
  });

  it('writes the first of a month as an ordinal in French only', () => {
    const first = Date.UTC(2027, 0, 1, 12);
    expect(formatDay(first, 'fr')).toBe('1er janvier 2027');
    expect(formatDay(first, 'en')).toBe('1 January 2027');
    expect(formatDay(first + 10 * dayMs, 'fr')).toBe('11 janvier 2027');
  });

  it('gives the same answer from its memo as when first asked, for every hour of a day', () => {
    const start = Date.UTC(2026, 10, 29, 20);
    const first = Array.from({ length: 30 }, (_, h) => formatDay(start + h * 3_600_000, 'en'));
    const again = Array.from({ length: 30 }, (_, h) => formatDay(start + h * 3_600_000 + 1_800_000, 'en'));
    expect(again).toEqual(first);
    expect(first.slice(1, 4)).toEqual(['29 November 2026', '29 November 2026', '30 November 2026']);
  });
});

describe('isoMinute, and no day for what is not a time', () => {
  it('writes the minute in Brussels, on the 24-hour clock', () => {
    expect(isoMinute(Date.UTC(2026, 10, 30, 23, 4))).toBe('2026-12-01 00:04');
    expect(isoMinute(Date.UTC(2026, 5, 14, 11, 30))).toBe('2026-06-14 13:30');
  });

  it('refuses a missing or invalid time rather than writing today or 1 January 1970', () => {
    for (const bad of [undefined, null, Number.NaN, Infinity]) {
      expect(() => formatDay(bad as unknown as number, 'en')).toThrow(RangeError);
    }
  });
});
