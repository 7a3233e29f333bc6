import type { Executor } from '../db/store';
import { isoDay } from '../time/dates';
import type { Lang } from '../i18n/i18n';
import { targetsRepository } from '../targets/targetsRepository';
import { isChannel, validateResponse, type ResponseErrors, type ResponseFormValues } from './responseForm';
import {
  responsesRepository,
  type ResponseChannel,
  type ResponseFields,
  type ResponseRow,
} from './responsesRepository';

/** A delegation's answer as the public pages show it. */
export interface PublicResponse {
  id: number;
  delegation: string;
  country: string;
  /** The delegation's own page, when the answer came from its country's delegation. */
  delegationPath: string | null;
  /** YYYY-MM-DD */
  date: string;
  /** The same day, as epoch ms at noon UTC (the day in Brussels too), for the date helpers. */
  at: number;
  channel: ResponseChannel;
  body: string;
  link: string | null;
  about: { kind: 'petition' | 'demand'; slug: string; title: string; path: string };
}

export const delegationPath = (country: string) => `/delegations/${country.toLowerCase()}`;

/** Noon UTC of a YYYY-MM-DD day: the same day in Brussels and in every European time zone. */
export function noonOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!, 12);
}

function toPublic(row: ResponseRow): PublicResponse {
  const petition = row.petitionSlug !== null;
  const slug = (petition ? row.petitionSlug : row.demandSlug) ?? '';
  return {
    id: row.id,
    delegation: row.delegation,
    country: row.country,
    delegationPath: Number(row.isDefault) === 1 ? delegationPath(row.country) : null,
    date: row.receivedOn,
    at: noonOf(row.receivedOn),
    channel: row.channel,
    body: row.body,
    link: row.link,
    about: {
      kind: petition ? 'petition' : 'demand',
      slug,
      title: (petition ? row.petitionTitle : row.demandTitle) ?? slug,
      path: petition ? `/petitions/${slug}` : `/demands/${slug}`,
    },
  };
}

/** The "Responses" section of a petition's, a demand's or a delegation's page (views/partials/responses.hbs). */
export function responsesView(responses: PublicResponse[], options: { showAbout?: boolean } = {}) {
  return {
    rows: responses.map((r) => ({ ...r, channelKey: `responses.channels.${r.channel}` })),
    showAbout: options.showAbout ?? false,
  };
}

export type Responses = ReturnType<typeof createResponses>;

/**
 * The delegations' answers: organisers record them in the console; the public pages show those
 * marked public. `onChange` runs after every change (the petitions' page cache drops its pages).
 */
export function createResponses(deps: { store: Executor; clock?: () => number; onChange?: () => void }) {
  const { store } = deps;
  const clock = deps.clock ?? Date.now;
  const repo = responsesRepository(store);
  const targets = targetsRepository(store);

  /** The stored fields of valid values, or the form's errors. */
  async function check(values: ResponseFormValues, lang: Lang) {
    const targetId = /^\d{1,12}$/.test(values.target) ? Number(values.target) : undefined;
    const target = targetId === undefined ? undefined : await targets.findById(targetId);
    const [kind, slug] = values.about.split(':', 2) as [string, string | undefined];
    const list = kind === 'petition' ? await repo.petitions(lang) : kind === 'demand' ? await repo.demands(lang) : [];
    const subject = list.find((s) => s.slug === slug);
    const errors = validateResponse(values, { target: !!target, about: !!subject }, isoDay(clock()));
    if (Object.keys(errors).length > 0 || !target || !subject || !isChannel(values.channel)) {
      return { errors };
    }
    const fields: ResponseFields = {
      targetId: target.id,
      petitionId: kind === 'petition' ? subject.id : null,
      demandId: kind === 'demand' ? subject.id : null,
      receivedOn: values.receivedOn,
      channel: values.channel,
      body: values.body,
      link: values.link || null,
      isPublic: values.isPublic ? 1 : 0,
    };
    return { errors, fields };
  }

  return {
    forPetition: async (petitionId: number, lang: Lang): Promise<PublicResponse[]> =>
      (await repo.publicForPetition(petitionId, lang)).map(toPublic),
    forDemand: async (demandId: number, lang: Lang): Promise<PublicResponse[]> =>
      (await repo.publicForDemand(demandId, lang)).map(toPublic),
    forTarget: async (targetId: number, lang: Lang): Promise<PublicResponse[]> =>
      (await repo.publicForTarget(targetId, lang)).map(toPublic),

    /** Today in Brussels (YYYY-MM-DD): no answer is received after it. */
    today: () => isoDay(clock()),

    /** Every answer, public or not, newest first: the console's list. */
    list: (lang: Lang) => repo.all(lang),
    find: (id: number, lang: Lang) => repo.byId(id, lang),

    /** What the form offers: every target, every petition and every demand. */
    async choices(lang: Lang) {
      return {
        targets: await targets.list(),
        petitions: await repo.petitions(lang),
        demands: await repo.demands(lang),
      };
    },

    /** A stored answer as the form shows it. */
    valuesOf(row: ResponseRow): ResponseFormValues {
      return {
        target: String(row.targetId),
        about: row.petitionSlug ? `petition:${row.petitionSlug}` : `demand:${row.demandSlug ?? ''}`,
        receivedOn: row.receivedOn,
        channel: row.channel,
        body: row.body,
        link: row.link ?? '',
        isPublic: Number(row.isPublic) === 1,
      };
    },

    async save(
      id: number | undefined,
      values: ResponseFormValues,
      organiserId: number | null,
      lang: Lang,
    ): Promise<{ ok: true; id: number } | { ok: false; errors: ResponseErrors }> {
      const { errors, fields } = await check(values, lang);
      if (!fields) return { ok: false, errors };
      const now = clock();
      let saved: number;
      if (id === undefined) saved = await repo.create(fields, organiserId, now);
      else if (await repo.update(id, fields, now)) saved = id;
      else return { ok: false, errors: {} };
      deps.onChange?.();
      return { ok: true, id: saved };
    },

    async remove(id: number): Promise<boolean> {
      const removed = await repo.remove(id);
      if (removed) deps.onChange?.();
      return removed;
    },
  };
}
