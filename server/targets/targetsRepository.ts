import type { Database } from '../db/database';

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
  isDefault: boolean;
}

/** What an organiser sets on a target. */
export interface TargetFields {
  kind: TargetKind;
  country: string;
  name: string;
  languages: string[];
  email: string | null;
  website: string | null;
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
  isDefault: number;
}

const toTarget = (r: Row): Target => ({
  ...r,
  namePlaceholder: r.namePlaceholder === 1,
  isDefault: r.isDefault === 1,
  languages: r.languages ? r.languages.split(',').filter(Boolean) : [],
  email: r.email || null,
});

const columns = `id, kind, country_code AS country, name, name_is_placeholder AS namePlaceholder, languages, email,
  website, is_default AS isDefault`;

export type TargetsRepository = ReturnType<typeof targetsRepository>;

/** The one place with SQL for targets: the letters journey reads them, the console edits them. */
export function targetsRepository(db: Database) {
  const all = db.prepare(`SELECT ${columns} FROM targets ORDER BY country_code, is_default DESC, name, id`);
  const byId = db.prepare(`SELECT ${columns} FROM targets WHERE id = ?`);
  const byCountry = db.prepare(`SELECT ${columns} FROM targets WHERE country_code = ? ORDER BY is_default DESC, id`);
  const defaults = db.prepare(`SELECT ${columns} FROM targets WHERE is_default = 1 ORDER BY country_code`);
  const insert = db.prepare(
    `INSERT INTO targets (kind, country_code, name, languages, email, website, is_default, created_at, updated_at)
     VALUES (@kind, @country, @name, @languages, @email, @website, 0, @now, @now)`,
  );
  // An organiser's name replaces a placeholder one.
  const update = db.prepare(
    `UPDATE targets SET kind = @kind, country_code = @country, name = @name,
       name_is_placeholder = CASE WHEN name = @name THEN name_is_placeholder ELSE 0 END,
       languages = @languages, email = @email, website = @website, updated_at = @now
     WHERE id = @id`,
  );
  const setEmail = db.prepare('UPDATE targets SET email = @email, updated_at = @now WHERE id = @id');
  const countries = db.prepare('SELECT code FROM countries').pluck();
  const withoutAddress = db.prepare(
    `SELECT c.code FROM countries c
     WHERE c.nato_member = 1 AND NOT EXISTS (
       SELECT 1 FROM targets t WHERE t.country_code = c.code AND t.is_default = 1 AND coalesce(t.email, '') <> '')
     ORDER BY c.code`,
  );

  const params = (t: TargetFields, now: number) => ({ ...t, languages: t.languages.join(','), now });

  return {
    list(): Target[] {
      return (all.all() as Row[]).map(toTarget);
    },
    findById(id: number): Target | undefined {
      const row = byId.get(id) as Row | undefined;
      return row && toTarget(row);
    },
    /** A country's targets, its default first. */
    forCountry(country: string): Target[] {
      return (byCountry.all(country) as Row[]).map(toTarget);
    },
    /** Each country's default target: the 32 delegations to NATO. */
    defaults(): Target[] {
      return (defaults.all() as Row[]).map(toTarget);
    },
    /** Adds a further (non-default) target, e.g. a country's delegation to the Parliamentary Assembly. */
    create(t: TargetFields, now = Date.now()): number {
      return Number(insert.run(params(t, now)).lastInsertRowid);
    },
    update(id: number, t: TargetFields, now = Date.now()): boolean {
      return update.run({ id, ...params(t, now) }).changes === 1;
    },
    setEmail(id: number, email: string | null, now = Date.now()): boolean {
      return setEmail.run({ id, email, now }).changes === 1;
    },
    countryCodes(): Set<string> {
      return new Set(countries.all() as string[]);
    },
    /** NATO members whose delegation (the default target) has no email address yet. */
    countriesWithoutAddress(): string[] {
      return withoutAddress.pluck().all() as string[];
    },
    /** Runs `work` in one transaction: an import is applied whole or not at all. */
    transaction<T>(work: () => T): T {
      return db.transaction(work)();
    },
  };
}
