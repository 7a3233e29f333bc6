import { dayMs } from '../../time/dates';

export interface DayCount {
  /** Days since 1970-01-01 (UTC). */
  day: number;
  count: number;
}

export interface BarChart {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: Array<{ x: number; y: number; width: number; height: number; date: string; count: number }>;
  gridLines: Array<{ x1: number; x2: number; y: number; labelX: number; labelY: number; value: number }>;
  xLabels: Array<{ x: number; y: number; date: string }>;
  days: Array<{ date: string; count: number }>;
  total: number;
  max: number;
}

/** A round step for the value axis: 1, 2 or 5 times a power of ten, about four lines high. */
function niceStep(max: number): number {
  const raw = Math.max(1, max) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return Math.max(1, step);
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The geometry of a signatures-per-day bar chart over the last `days` days up to `today`, for the
 * template to draw as inline SVG (no client script; only SVG attributes, which the CSP allows).
 * Days without signatures are zero bars, so the axis is continuous.
 */
export function barChart(counts: DayCount[], today: number, days: number): BarChart {
  const width = 720;
  const height = 260;
  const plot = { left: 48, top: 12, right: width - 40, bottom: height - 32 };
  const byDay = new Map(counts.map((c) => [c.day, c.count]));
  const series = Array.from({ length: days }, (_, i) => {
    const day = today - days + 1 + i;
    return { day, date: new Date(day * dayMs).toISOString().slice(0, 10), count: byDay.get(day) ?? 0 };
  });
  const max = Math.max(0, ...series.map((s) => s.count));
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const plotHeight = plot.bottom - plot.top;
  const slot = (plot.right - plot.left) / days;
  const barWidth = Math.max(1, slot * 0.75);
  const bars = series.map((s, i) => {
    const h = (s.count / top) * plotHeight;
    return {
      x: round(plot.left + i * slot + (slot - barWidth) / 2),
      y: round(plot.bottom - h),
      width: round(barWidth),
      height: round(h),
      date: s.date,
      count: s.count,
    };
  });
  const gridLines = [];
  for (let value = 0; value <= top; value += step) {
    const y = round(plot.bottom - (value / top) * plotHeight);
    gridLines.push({ x1: plot.left, x2: plot.right, y, labelX: plot.left - 6, labelY: y + 4, value });
  }
  // About six dates along the bottom, always including the last day.
  const every = Math.ceil(days / 6);
  const xLabels = series
    .map((s, i) => ({ i, date: s.date }))
    .filter(({ i }) => (days - 1 - i) % every === 0)
    .map(({ i, date }) => ({ x: round(plot.left + i * slot + slot / 2), y: plot.bottom + 20, date }));
  return {
    width,
    height,
    plot,
    bars,
    gridLines,
    xLabels,
    days: series.map(({ date, count }) => ({ date, count })),
    total: series.reduce((sum, s) => sum + s.count, 0),
    max,
  };
}

export function dayNumber(ms: number): number {
  return Math.floor(ms / dayMs);
}
