import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../db/store';

export const targetKinds = ['nato_delegation', 'parliamentary_assembly', 'minister'] as const;
export type TargetKind = (typeof targetKinds)[number];

/** One addressee. Several per country are allowed; the NATO delegation is each country's default. */
export interface Target {
  id: number;
  kind: TargetKind;
  country: string;
  name: string;
  namePlaceholder: boolean;
  languages: string[];
  /** Only ever from this table: never invented, never taken from a supporter's request. */
  email: string | null;
  website: string | null;
  /** Where a hand-in pack goes: comma-separated parts ("Delegation, NATO Headquarters, …"). */
  postalAddress: string | null;
  /** Deliver by post even when an email is known (some delegations want paper). */
  forcePost: boolean;
  isDefault: boolean;
}

export type DeliveryChannel = 'email' | 'post';

/** How a target's deliveries travel: by email when it has an address and has not asked for paper. */
export function deliveryChannel(t: { email: string | null; forcePost: boolean }): DeliveryChannel {
  return t.email && !t.forcePost ? 'email' : 'post';
}

/** What an organiser sets on a target. */
export interface TargetFields {
  kind: TargetKind;
  country: string;
  name: string;
  languages: string[];
  email: string | null;
  website: string | null;
  /** Left out: none (an update then clears it), and delivered by email when there is an address. */
  postalAddress?: string | null;
  forcePost?: boolean;
}

interface Row {
  id: number;
  kind: TargetKind;
  country: string;
  name: string;
  namePlaceholder: number;
  languages: string;
  email: string | null;
  website: string | null;
  postalAddress: string | null;
  forcePost: number;
  isDefault: number;
}

const toTarget = (r: Row): Target => ({
  ...r,
  namePlaceholder: r.namePlaceholder === 1,
  isDefault: r.isDefault === 1,
  languages: r.languages ? r.languages.split(',').filter(Boolean) : [],
  email: r.email || null,
  postalAddress: r.postalAddress || null,
  forcePost: r.forcePost === 1,
});

const columns = sql`id, kind, country_code AS country, name, name_is_placeholder AS "namePlaceholder", languages,
  email, website, postal_address AS "postalAddress", force_post AS "forcePost", is_default AS "isDefault"`;

const all = prepared(() => sql<Row>`SELECT ${columns} FROM targets ORDER BY country_code, is_default DESC, name, id`);
const byId = prepared((_qb, p: Params<{ id: number }>) => sql<Row>`SELECT ${columns} FROM targets WHERE id = ${p.id}`);
const byCountry = prepared(
  (_qb, p: Params<{ country: string }>) =>
    sql<Row>`SELECT ${columns} FROM targets WHERE country_code = ${p.country} ORDER BY is_default DESC, id`,
);
const defaults = prepared(() => sql<Row>`SELECT ${columns} FROM targets WHERE is_default = 1 ORDER BY country_code`);

type Values = Omit<TargetFields, 'languages' | 'postalAddress' | 'forcePost'> & {
  languages: string;
  postalAddress: string | null;
  forcePost: 0 | 1;
  now: number;
};
const insert = prepared((qb, p: Params<Values>) =>
  qb
    .insertInto('targets')
    .values({
      kind: p.kind,
      country_code: p.country,
      name: p.name,
      languages: p.languages,
      email: p.email,
      website: p.website,
      postal_address: p.postalAddress,
      force_post: p.forcePost,
      is_default: 0,
      created_at: p.now,
      updated_at: p.now,
    })
    .returning('id'),
);
// An organiser's name replaces a placeholder one.
const update = prepared(
  (_qb, p: Params<Values & { id: number }>) =>
    sql`UPDATE targets SET kind = ${p.kind}, country_code = ${p.country}, name = ${p.name},
       name_is_placeholder = CASE WHEN name = ${p.name} THEN name_is_placeholder ELSE 0 END,
       languages = ${p.languages}, email = ${p.email}, website = ${p.website},
       postal_address = ${p.postalAddress}, force_post = ${p.forcePost}, updated_at = ${p.now}
     WHERE id = ${p.id}`,
);
const setEmail = prepared((qb, p: Params<{ id: number; email: string | null; now: number }>) =>
  qb.updateTable('targets').set({ email: p.email, updated_at: p.now }).where('id', '=', p.id),
);
const countries = prepared((qb) => qb.selectFrom('countries').select('code'));
const withoutAddress = prepared(
  () =>
    sql<{ code: string }>`SELECT c.code FROM countries c
     WHERE c.nato_member = 1 AND NOT EXISTS (
       SELECT 1 FROM targets t WHERE t.country_code = c.code AND t.is_default = 1 AND coalesce(t.email, '') <> '')
     ORDER BY c.code`,
);

const values = (t: TargetFields, now: number): Values => ({
  ...t,
  languages: t.languages.join(','),
  postalAddress: t.postalAddress ?? null,
  forcePost: t.forcePost ? 1 : 0,
  now,
});

export type TargetsRepository = ReturnType<typeof targetsRepository>;

/**
 * The one place with SQL for targets: the letters journey reads them, the console edits them. On the
 * store, or inside a caller's transaction (an import is applied whole: see the console's service).
 */
export function targetsRepository(db: Executor) {
  return {
    list: async (): Promise<Target[]> => (await db.all(all)).map(toTarget),
    async findById(id: number): Promise<Target | undefined> {
      const row = await db.first(byId, { id });
      return row && toTarget(row);
    },
    /** A country's targets, its default first. */
    forCountry: async (country: string): Promise<Target[]> => (await db.all(byCountry, { country })).map(toTarget),
    /** Each country's default target: the 32 delegations to NATO. */
    defaults: async (): Promise<Target[]> => (await db.all(defaults)).map(toTarget),
    /** Adds a further (non-default) target, e.g. a country's delegation to the Parliamentary Assembly. */
    async create(t: TargetFields, now = Date.now()): Promise<number> {
      return (await db.first(insert, values(t, now)))!.id;
    },
    async update(id: number, t: TargetFields, now = Date.now()): Promise<boolean> {
      return (await db.run(update, { ...values(t, now), id })) === 1;
    },
    async setEmail(id: number, email: string | null, now = Date.now()): Promise<boolean> {
      return (await db.run(setEmail, { id, email, now })) === 1;
    },
    countryCodes: async (): Promise<Set<string>> => new Set((await db.all(countries)).map((r) => r.code)),
    /** NATO members whose delegation (the default target) has no email address yet. */
    countriesWithoutAddress: async (): Promise<string[]> => (await db.all(withoutAddress)).map((r) => r.code),
  };
}
