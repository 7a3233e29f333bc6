import { countryChoices, type CountryChoices } from '../campaign/countries';
import type { Lang } from '../i18n/i18n';
import type { CountryCount, Petition, PetitionsRepository, PublicSigner, Target } from './petitionsRepository';

export interface PetitionPage {
  petition: Petition;
  count: number;
  countryCounts: CountryCount[];
  recentSigners: PublicSigner[];
  targets: Target[];
}

export type PetitionsService = ReturnType<typeof createPetitionsService>;

/**
 * Page views read the counters kept by the writer (never COUNT(*)), through a small cache that the
 * writer clears when it validates a signature. A page view writes nothing.
 */
export function createPetitionsService(
  repo: PetitionsRepository,
  options: { recentSigners?: number; clock?: () => number } = {},
) {
  const clock = options.clock ?? Date.now;
  const pages = new Map<string, PetitionPage | null>();
  // Bumped whenever cached pages are dropped, so that caches built on them (rendered HTML) follow.
  let version = 0;
  let choices: Map<Lang, CountryChoices> | undefined;
  let codes: Set<string> | undefined;

  function loadCountries() {
    const all = repo.countries();
    codes = new Set(all.map((c) => c.code));
    const nato = new Set(all.filter((c) => c.nato).map((c) => c.code));
    choices = new Map((['en', 'fr'] as const).map((lang) => [lang, countryChoices([...codes!], nato, lang)]));
  }

  return {
    campaign: (lang: Lang) => repo.campaign(lang),
    demands: (lang: Lang) => repo.demands(lang),
    findPetition: (slug: string, lang: Lang) => repo.findBySlug(slug, lang),
    slugOf: (id: number) => repo.slugById(id),

    page(slug: string, lang: Lang): PetitionPage | undefined {
      const key = `${lang}:${slug}`;
      let page = pages.get(key);
      if (page === undefined) {
        const petition = repo.findBySlug(slug, lang);
        page = petition
          ? {
              petition,
              count: repo.validatedCount(petition.id),
              countryCounts: repo.countryCounts(petition.id),
              recentSigners: repo.recentPublicSigners(petition.id, options.recentSigners ?? 10),
              targets: repo.petitionTargets(petition.id),
            }
          : null;
        if (pages.size > 1000) pages.clear(); // unknown slugs must not grow it without bound
        pages.set(key, page);
      }
      return page ?? undefined;
    },

    setState(slug: string, state: 'open' | 'closed'): boolean {
      const changed = repo.setState(slug, state, clock());
      this.invalidate();
      return changed;
    },

    /** Drops cached pages after counts or texts change. */
    invalidate(): void {
      pages.clear();
      version++;
    },

    /** Changes whenever what `page()` returns may have changed. */
    version: () => version,

    countryChoices(lang: Lang): CountryChoices {
      if (!choices) loadCountries();
      return choices!.get(lang)!;
    },

    countryCodes(): ReadonlySet<string> {
      if (!codes) loadCountries();
      return codes!;
    },
  };
}
