import { barChart } from '../../server/console/dashboard/chart';

const day = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);

describe('barChart', () => {
  const today = day('2026-03-31');
  const chart = barChart(
    [
      { day: day('2026-03-31'), count: 40 },
      { day: day('2026-03-30'), count: 10 },
      { day: day('2026-02-01'), count: 999 }, // before the period: left out
    ],
    today,
    30,
  );

  it('has one bar per day of the period, ending today, zero where nothing was signed', () => {
    expect(chart.bars).toHaveLength(30);
    expect(chart.bars[0]!.date).toBe('2026-03-02');
    expect(chart.bars.at(-1)).toMatchObject({ date: '2026-03-31', count: 40 });
    expect(chart.bars.at(-2)).toMatchObject({ date: '2026-03-30', count: 10 });
    expect(chart.bars[0]!.height).toBe(0);
    expect(chart.total).toBe(50);
    expect(chart.max).toBe(40);
  });

  it('draws bars in proportion, inside the plot, on a round scale', () => {
    const last = chart.bars.at(-1)!;
    const before = chart.bars.at(-2)!;
    expect(last.height / before.height).toBeCloseTo(4, 1);
    expect(last.y).toBeGreaterThanOrEqual(chart.plot.top);
    expect(last.y + last.height).toBeCloseTo(chart.plot.bottom, 5);
    expect(chart.gridLines.map((g) => g.value)).toEqual([0, 10, 20, 30, 40]);
    expect(chart.xLabels.at(-1)!.date).toBe('2026-03-31');
  });

  it('copes with a period without any signature', () => {
    const empty = barChart([], today, 90);
    expect(empty.bars).toHaveLength(90);
    expect(empty.bars.every((b) => b.height === 0 && Number.isFinite(b.y))).toBe(true);
  });
});
