import { countryChoices, type CountryChoices } from '../campaign/countries';
import type { PublicDelivery } from '../deliveries/deliveryRecord';
import type { Lang } from '../i18n/i18n';
import type { PublicResponse } from '../responses/responses';
import { asOf } from './closingDate';
import type {
  ArchivedPetition,
  CountryCount,
  DemandSummary,
  Petition,
  PetitionsRepository,
  PublicSigner,
  Target,
} from './petitionsRepository';

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
  // The soonest closing time of an open petition in the cache: the cache is dropped when it comes,
  // so that no page, and no sign POST, sees that petition open past it.
  let nextClose = Infinity;
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

  function invalidate(): void {
    pages.clear();
    reading.clear();
    readAt = Infinity;
    nextClose = Infinity;
    version++;
  }

  /** Drops the cache once it is as old as the interval, or a petition in it reaches its closing time. */
  function expireIfDue(): void {
    const now = clock();
    if ((options.maxAgeMs !== undefined && now - readAt >= options.maxAgeMs) || now >= nextClose) invalidate();
  }

  async function readPage(slug: string, lang: Lang, key: string): Promise<PetitionPage | null> {
    const at = version;
    const started = clock();
    const found = await repo.findBySlug(slug, lang);
    const petition = found && asOf(found, started);
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
      if (petition?.state === 'open' && petition.closesAt !== null) nextClose = Math.min(nextClose, petition.closesAt);
    }
    return page;
  }

  return {
    campaign: (lang: Lang) => repo.campaign(lang),
    /** The demands and their petitions, each petition's state as of now. */
    async demands(lang: Lang): Promise<DemandSummary[]> {
      const now = clock();
      return (await repo.demands(lang)).map((d) => {
        if (d.petitionState === null) return d;
        const seen = asOf({ state: d.petitionState, closesAt: d.closesAt, closedAt: d.closedAt }, now);
        return { ...d, petitionState: seen.state, closedAt: seen.closedAt };
      });
    },
    async findPetition(slug: string, lang: Lang): Promise<Petition | undefined> {
      const found = await repo.findBySlug(slug, lang);
      return found && asOf(found, clock());
    },
    /** Closed petitions, newest closed first. */
    archive: (lang: Lang): Promise<ArchivedPetition[]> => repo.archive(lang, clock()),
    /** The time by the services' clock: what pages count the days to a closing date from. */
    now: (): number => clock(),
    slugOf: (id: number) => repo.slugById(id),
    /** Every petition's slug by its id, to name rows in an export. */
    slugsById: () => repo.slugsById(),

    async page(slug: string, lang: Lang): Promise<PetitionPage | undefined> {
      const key = `${lang}:${slug}`;
      expireIfDue();
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

    /**
     * Opens or closes a petition by hand. Opening one whose closing time has passed clears that time
     * (it would close again at once); `clearedClosesAt` says which time was cleared. A petition
     * already in that state, as readers see it, is left alone (`changed: false`): closing it again
     * would move the time it closed, from which its signatures' last day to confirm is counted.
     */
    async setState(
      slug: string,
      state: 'open' | 'closed',
    ): Promise<{ found: boolean; changed: boolean; clearedClosesAt: number | null }> {
      const now = clock();
      const current = await repo.findBySlug(slug, 'en');
      if (!current) return { found: false, changed: false, clearedClosesAt: null };
      if (asOf(current, now).state === state) return { found: true, changed: false, clearedClosesAt: null };
      let clearedClosesAt: number | null = null;
      if (state === 'open' && current.closesAt !== null && current.closesAt <= now) {
        await repo.setClosesAt(slug, null);
        clearedClosesAt = current.closesAt;
      }
      // Only from the other state: of two closes at once, one changes it.
      const changed = (await repo.setState(slug, state, now)) || clearedClosesAt !== null;
      invalidate();
      return { found: true, changed, clearedClosesAt };
    },

    /** Sets or clears a petition's closing time; false when there is no such petition. */
    async setClosesAt(slug: string, closesAt: number | null): Promise<boolean> {
      const changed = await repo.setClosesAt(slug, closesAt);
      invalidate();
      return changed;
    },

    /**
     * The background step: writes down as closed the open petitions whose closing time has come
     * (readers already see them closed). Several processes may run it at once. Their slugs.
     */
    async closeDue(): Promise<string[]> {
      const closed = await repo.closeDue(clock());
      if (closed.length > 0) invalidate();
      return closed;
    },

    /** Drops cached pages after counts or texts change. */
    invalidate,

    /**
     * Changes whenever what `page()` returns may have changed: after an invalidation, once the
     * pages kept are as old as the refresh interval, and at a cached petition's closing time.
     */
    version(): number {
      expireIfDue();
      return version;
    },

    async countryChoices(lang: Lang): Promise<CountryChoices> {
      return (await loadCountries()).choices.get(lang)!;
    },

    async countryCodes(): Promise<ReadonlySet<string>> {
      return (await loadCountries()).codes;
    },
  };
}
