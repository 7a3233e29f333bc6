import type { Executor } from '../../db/store';
import type { Lang } from '../../i18n/i18n';
import { brusselsFields, brusselsInstant, defaultClosingTime } from '../../petitions/closingDate';
import type { PetitionsService } from '../../petitions/petitionsService';
import { petitionAdminRepository, type Texts } from './petitionAdminRepository';
import { sourcesRepository } from './sourcesRepository';

export interface PetitionFormValues {
  slug: string;
  goal: string;
  demand: string;
  titleEn: string;
  bodyEn: string;
  titleFr: string;
  bodyFr: string;
  /** The closing date and time in Brussels ('2026-06-24', '23:59'); both blank: no closing date. */
  closesDate: string;
  closesTime: string;
  targets: number[];
}

export type PetitionErrors = Partial<Record<keyof PetitionFormValues, string>>;

export interface DemandFormValues {
  titleEn: string;
  summaryEn: string;
  titleFr: string;
  summaryFr: string;
}

export type DemandErrors = Partial<Record<keyof DemandFormValues, string>>;

const text = (body: Record<string, unknown>, key: string, max: number) => {
  const v = body[key];
  return typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim().slice(0, max) : '';
};

// Anything but tab and newline is refused in texts shown on the public pages.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** Reads only the known fields (SECURITY 10: posting `state` or `id` changes nothing). */
export function parsePetitionForm(body: unknown): PetitionFormValues {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const rawTargets = Array.isArray(b.targets) ? b.targets : b.targets === undefined ? [] : [b.targets];
  return {
    slug: text(b, 'slug', 100).toLowerCase(),
    goal: text(b, 'goal', 20),
    demand: text(b, 'demand', 100),
    titleEn: text(b, 'titleEn', 400),
    bodyEn: text(b, 'bodyEn', 20_000),
    titleFr: text(b, 'titleFr', 400),
    bodyFr: text(b, 'bodyFr', 20_000),
    closesDate: text(b, 'closesDate', 20),
    closesTime: text(b, 'closesTime', 10),
    targets: rawTargets.map(Number).filter((n) => Number.isInteger(n) && n > 0),
  };
}

export function parseDemandForm(body: unknown): DemandFormValues {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    titleEn: text(b, 'titleEn', 400),
    summaryEn: text(b, 'summaryEn', 4000),
    titleFr: text(b, 'titleFr', 400),
    summaryFr: text(b, 'summaryFr', 4000),
  };
}

export type PetitionAdminService = ReturnType<typeof createPetitionAdminService>;

export function createPetitionAdminService(deps: {
  store: Executor;
  petitions: PetitionsService;
  clock?: () => number;
}) {
  const { store, petitions } = deps;
  const repo = petitionAdminRepository(store);
  const clock = deps.clock ?? Date.now;
  const e = (key: string) => `admin.petitions.errors.${key}`;

  /** The closing time the form asks for (null: none), or the error to show beside the field. */
  function closingTime(values: PetitionFormValues, current: number | null): { at: number | null; error?: string } {
    if (!values.closesDate) return values.closesTime ? { at: null, error: e('closesDateBlank') } : { at: null };
    const at = brusselsInstant(values.closesDate, values.closesTime || defaultClosingTime);
    if (at === undefined) {
      const dateOk = brusselsInstant(values.closesDate, '12:00') !== undefined;
      return { at: null, error: e(dateOk ? 'closesTimeFormat' : 'closesDateFormat') };
    }
    // A time already set may stay as it is (a closed petition's form is saved again); a new one must be ahead.
    if (at !== current && at <= clock()) return { at: null, error: e('closesPast') };
    return { at };
  }

  async function check(
    values: PetitionFormValues,
    creating: boolean,
    currentDemand: string | null,
    currentClosesAt: number | null = null,
  ): Promise<PetitionErrors> {
    const errors: PetitionErrors = {};
    const closing = closingTime(values, currentClosesAt);
    if (closing.error) errors[closing.error.endsWith('closesTimeFormat') ? 'closesTime' : 'closesDate'] = closing.error;
    if (creating) {
      if (!values.slug) errors.slug = e('slugBlank');
      else if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(values.slug) || values.slug.length > 80) errors.slug = e('slugFormat');
      // 'archive' is the closed petitions' page, /petitions/archive.
      else if (values.slug === 'archive' || (await repo.slugTaken(values.slug))) errors.slug = e('slugTaken');
    }
    const goal = Number(values.goal);
    if (!values.goal) errors.goal = e('goalBlank');
    else if (!/^\d+$/.test(values.goal) || goal < 1 || goal > 100_000_000) errors.goal = e('goalRange');
    if (values.demand) {
      const demand = (await repo.demands()).find((d) => d.slug === values.demand);
      if (!demand) errors.demand = e('demandUnknown');
      else if (demand.petitionSlug && values.demand !== currentDemand) errors.demand = e('demandTaken');
    }
    if (!values.titleEn) errors.titleEn = e('titleBlank');
    else if (values.titleEn.length > 200) errors.titleEn = e('titleTooLong');
    if (!values.bodyEn) errors.bodyEn = e('bodyBlank');
    if ((values.titleFr === '') !== (values.bodyFr === '')) {
      if (!values.titleFr) errors.titleFr = e('frenchBoth');
      else errors.bodyFr = e('frenchBoth');
    } else if (values.titleFr.length > 200) errors.titleFr = e('titleTooLong');
    for (const key of ['titleEn', 'bodyEn', 'titleFr', 'bodyFr'] as const) {
      if (!errors[key] && controlChars.test(values[key])) errors[key] = e('control');
    }
    return errors;
  }

  function texts(values: PetitionFormValues): Partial<Record<Lang, Texts>> {
    return {
      en: { title: values.titleEn, body: values.bodyEn },
      ...(values.titleFr ? { fr: { title: values.titleFr, body: values.bodyFr } } : {}),
    };
  }

  return {
    find: (slug: string) => repo.find(slug),
    /** Validated signatures per source code, most first (the console's "Embed and sources" page). */
    signaturesBySource: (petitionId: number) => sourcesRepository(store).signaturesBySource(petitionId),
    demands: () => repo.demands(),
    findDemand: (slug: string) => repo.findDemand(slug),

    async valuesOf(slug: string): Promise<PetitionFormValues | undefined> {
      const p = await repo.find(slug);
      if (!p) return undefined;
      return {
        slug: p.slug,
        goal: String(p.goal),
        demand: p.demandSlug ?? '',
        titleEn: p.texts.en?.title ?? '',
        bodyEn: p.texts.en?.body ?? '',
        titleFr: p.texts.fr?.title ?? '',
        bodyFr: p.texts.fr?.body ?? '',
        ...(p.closesAt === null
          ? { closesDate: '', closesTime: '' }
          : (({ date, time }) => ({ closesDate: date, closesTime: time }))(brusselsFields(p.closesAt))),
        targets: p.targetIds,
      };
    },

    async create(values: PetitionFormValues): Promise<{ ok: true } | { ok: false; errors: PetitionErrors }> {
      const errors = await check(values, true, null);
      if (Object.keys(errors).length > 0) return { ok: false, errors };
      await store.transaction((tx) =>
        petitionAdminRepository(tx).create({
          slug: values.slug,
          goal: Number(values.goal),
          demandSlug: values.demand || null,
          texts: texts(values),
          targetIds: values.targets,
          closesAt: closingTime(values, null).at,
          now: clock(),
        }),
      );
      petitions.invalidate();
      return { ok: true };
    },

    async update(
      slug: string,
      values: PetitionFormValues,
    ): Promise<{ ok: true } | { ok: false; errors: PetitionErrors }> {
      const current = await repo.find(slug);
      if (!current) return { ok: false, errors: {} };
      const errors = await check(values, false, current.demandSlug, current.closesAt);
      if (Object.keys(errors).length > 0) return { ok: false, errors };
      await store.transaction((tx) =>
        petitionAdminRepository(tx).update(current.id, {
          goal: Number(values.goal),
          demandSlug: values.demand || null,
          texts: texts(values),
          targetIds: values.targets,
          closesAt: closingTime(values, current.closesAt).at,
        }),
      );
      petitions.invalidate();
      return { ok: true };
    },

    setState(slug: string, state: 'open' | 'closed') {
      return petitions.setState(slug, state);
    },

    async updateDemand(
      slug: string,
      values: DemandFormValues,
    ): Promise<{ ok: true } | { ok: false; errors: DemandErrors }> {
      const demand = await repo.findDemand(slug);
      if (!demand) return { ok: false, errors: {} };
      const errors: DemandErrors = {};
      for (const key of ['titleEn', 'summaryEn', 'titleFr', 'summaryFr'] as const) {
        if (!values[key]) errors[key] = e(key.startsWith('title') ? 'titleBlank' : 'summaryBlank');
        else if (controlChars.test(values[key])) errors[key] = e('control');
        else if (key.startsWith('title') && values[key].length > 200) errors[key] = e('titleTooLong');
      }
      if (Object.keys(errors).length > 0) return { ok: false, errors };
      await store.transaction((tx) =>
        petitionAdminRepository(tx).updateDemand(demand.id, {
          en: { title: values.titleEn, summary: values.summaryEn },
          fr: { title: values.titleFr, summary: values.summaryFr },
        }),
      );
      petitions.invalidate();
      return { ok: true };
    },
  };
}
