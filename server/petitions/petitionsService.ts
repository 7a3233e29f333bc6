import { countryChoices, type CountryChoices } from '../campaign/countries';
import type { PublicDelivery } from '../deliveries/deliveryRecord';
import type { Lang } from '../i18n/i18n';
import type { PublicResponse } from '../responses/responses';
import type { CountryCount, Petition, PetitionsRepository, PublicSigner, Target } from './petitionsRepository';

export interface PetitionPage {
  petition: Petition;
  count: number;
  countryCounts: CountryCount[];
  recentSigners: PublicSigner[];
  targets: Target[];
  /** What has reached the delegations so far (the public delivery record), newest first. */
  deliveries: PublicDelivery[];
  /** What the delegations answered about the petition or its demand (public ones), newest first. */
  responses: PublicResponse[];
}

export type PetitionsService = ReturnType<typeof createPetitionsService>;

/**
 * Page views read the counters kept by the writer (never COUNT(*)), through a small cache that the
 * writer clears when it validates a signature. A page view writes nothing.
 *
 * When other processes write too (several web workers, or PostgreSQL shared by several machines),
 * their validations cannot clear this process's cache: `maxAgeMs` then bounds how old a cached
 * page, and so a count, may be.
 */
export function createPetitionsService(
  repo: PetitionsRepository,
  options: {
    recentSigners?: number;
    clock?: () => number;
    maxAgeMs?: number;
    /** The petition's deliveries; they change when a digest is sent or a pack recorded, perhaps elsewhere. */
    deliveries?: (petitionId: number) => Promise<PublicDelivery[]>;
    /** The delegations' public answers; recorded in the console, perhaps by another process. */
    responses?: (petitionId: number, lang: Lang) => Promise<PublicResponse[]>;
  } = {},
) {
  const clock = options.clock ?? Date.now;
  const pages = new Map<string, PetitionPage | null>();
  // Reads under way, shared by the page views that miss the cache meanwhile (after a confirmation,
  // every viewer at once): one read, not one per viewer. Dropped on invalidation, like the pages.
  const reading = new Map<string, Promise<PetitionPage | null>>();
  // When the oldest page in the cache was read (the cache is dropped whole once it is too old).
  let readAt = Infinity;
  // Bumped whenever cached pages are dropped, so that caches built on them (rendered HTML) follow.
  let version = 0;
  // The countries never change while the app runs: read once.
  let countries: Promise<{ codes: Set<string>; choices: Map<Lang, CountryChoices> }> | undefined;
  const loadCountries = () =>
    (countries ??= repo.countries().then((all) => {
      const codes = new Set(all.map((c) => c.code));
      const nato = new Set(all.filter((c) => c.nato).map((c) => c.code));
      const choices = new Map((['en', 'fr'] as const).map((lang) => [lang, countryChoices([...codes], nato, lang)]));
      return { codes, choices };
    }));

  async function readPage(slug: string, lang: Lang, key: string): Promise<PetitionPage | null> {
    const at = version;
    const started = clock();
    const petition = await repo.findBySlug(slug, lang);
    const page = petition
      ? {
          petition,
          count: await repo.validatedCount(petition.id),
          countryCounts: await repo.countryCounts(petition.id),
          recentSigners: await repo.recentPublicSigners(petition.id, options.recentSigners ?? 10),
          targets: await repo.petitionTargets(petition.id),
          deliveries: (await options.deliveries?.(petition.id)) ?? [],
          responses: (await options.responses?.(petition.id, lang)) ?? [],
        }
      : null;
    // Kept only if nothing changed while it was read (on PostgreSQL the reads above take turns
    // with writes): a page read before an invalidation must not outlive it.
    if (at === version) {
      if (pages.size > 1000) pages.clear(); // unknown slugs must not grow it without bound
      pages.set(key, page);
      readAt = Math.min(readAt, started);
    }
    return page;
  }

  return {
    campaign: (lang: Lang) => repo.campaign(lang),
    demands: (lang: Lang) => repo.demands(lang),
    findPetition: (slug: string, lang: Lang) => repo.findBySlug(slug, lang),
    slugOf: (id: number) => repo.slugById(id),
    /** Every petition's slug by its id, to name rows in an export. */
    slugsById: () => repo.slugsById(),

    async page(slug: string, lang: Lang): Promise<PetitionPage | undefined> {
      const key = `${lang}:${slug}`;
      if (options.maxAgeMs !== undefined && clock() - readAt >= options.maxAgeMs) this.invalidate();
      const cached = pages.get(key);
      if (cached !== undefined) return cached ?? undefined;
      let read = reading.get(key);
      if (!read) {
        read = readPage(slug, lang, key).finally(() => {
          if (reading.get(key) === read) reading.delete(key);
        });
        reading.set(key, read);
      }
      return (await read) ?? undefined;
    },

    async setState(slug: string, state: 'open' | 'closed'): Promise<boolean> {
      const changed = await repo.setState(slug, state, clock());
      this.invalidate();
      return changed;
    },

    /** Drops cached pages after counts or texts change. */
    invalidate(): void {
      pages.clear();
      reading.clear();
      readAt = Infinity;
      version++;
    },

    /** Changes whenever what `page()` returns may have changed. */
    version: () => version,

    async countryChoices(lang: Lang): Promise<CountryChoices> {
      return (await loadCountries()).choices.get(lang)!;
    },

    async countryCodes(): Promise<ReadonlySet<string>> {
      return (await loadCountries()).codes;
    },
  };
}
