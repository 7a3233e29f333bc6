import type { Lang } from '../../i18n/i18n';
import { barChart, dayNumber } from './chart';
import type { DashboardRepository, PetitionSummary } from './dashboardRepository';
import { dayMs } from '../../time/dates';

/**
 * A block on the dashboard that another feature adds (letters by demand and country, delivery
 * status): its partial (views/partials/<partial>.hbs) is rendered with what `load` returns for the
 * petition shown, or left out when `load` returns undefined.
 */
export interface DashboardSection {
  id: string;
  partial: string;
  load(
    petition: PetitionSummary,
    lang: Lang,
  ): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
}

export const chartPeriods = [30, 90] as const;

export type DashboardService = ReturnType<typeof createDashboardService>;

export function createDashboardService(repo: DashboardRepository, clock: () => number = Date.now) {
  /** Extension point: letters and delivery register their sections here. */
  const sections: DashboardSection[] = [];

  const withCounts = async (p: PetitionSummary) => ({
    ...p,
    stateKey: `admin.petitionStates.${p.state}`,
    counts: await repo.stateCounts(p.id),
  });
  const listed = async (lang: Lang) => Promise.all((await repo.petitions(lang)).map(withCounts));

  return {
    sections,
    addSection(section: DashboardSection): void {
      sections.push(section);
    },

    /** Every petition with its counts by state. */
    list: listed,

    /** Every petition with its counts by state, and the chosen one (or the first) in detail. */
    async overview(lang: Lang, options: { slug?: string; days: number }) {
      const petitions = await listed(lang);
      const current = petitions.find((p) => p.slug === options.slug) ?? petitions[0];
      if (!current) return { petitions, current: undefined };
      const today = dayNumber(clock());
      const since = (today - options.days + 1) * dayMs;
      const countries = await repo.countryCounts(current.id);
      const top = countries[0]?.count ?? 0;
      return {
        petitions,
        current: {
          ...current,
          chart: barChart(await repo.validatedPerDay(current.id, since), today, options.days),
          countries: countries.map((c) => ({ ...c, max: top })),
          sections: (
            await Promise.all(
              sections.map(async (s) => {
                const context = await s.load(current, lang);
                return context ? [{ id: s.id, partial: s.partial, context }] : [];
              }),
            )
          ).flat(),
        },
      };
    },
  };
}
