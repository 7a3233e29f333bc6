import type { Lang } from '../../i18n/i18n';
import type { ResponsivenessRow } from './repliesRepository';
import { wilsonInterval } from './wilson';

/** Below this many counted answers a delegation shows "too few answers", not a share. */
export const minAnswers = 10;

export interface ResponsivenessLine extends ResponsivenessRow {
  tooFew: boolean;
  /** Formatted for the page's language ("50%", "50 %"), when there are enough answers. */
  share?: string;
  low?: string;
  high?: string;
}

/** The table's lines: each delegation's share replied and its 95% Wilson interval, as the page words them. */
export function responsivenessLines(rows: readonly ResponsivenessRow[], lang: Lang): ResponsivenessLine[] {
  const percent = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', {
    style: 'percent',
    maximumFractionDigits: 0,
  });
  return rows.map((row) => {
    const interval = wilsonInterval(row.replied, row.answers);
    if (row.answers < minAnswers || !interval) return { ...row, tooFew: true };
    return {
      ...row,
      tooFew: false,
      share: percent.format(row.replied / row.answers),
      low: percent.format(interval.low),
      high: percent.format(interval.high),
    };
  });
}
