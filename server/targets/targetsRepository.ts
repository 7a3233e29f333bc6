import type { Database } from '../db/database';

export type TargetKind = 'nato_delegation' | 'parliamentary_assembly' | 'minister';

/** One addressee. Several per country are allowed; the NATO delegation is each country's default. */
export interface Target {
  id: number;
  kind: TargetKind;
  country: string;
  name: string;
  namePlaceholder: boolean;
  languages: string[];
  /** Only ever from this table: never invented, never taken from a request. */
  email: string | null;
  website: string | null;
  isDefault: boolean;
}

interface RawTarget {
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

const columns = `id, kind, country_code AS country, name, name_is_placeholder AS namePlaceholder, languages,
  email, website, is_default AS isDefault`;

function toTarget(r: RawTarget): Target {
  return {
    ...r,
    namePlaceholder: r.namePlaceholder === 1,
    languages: r.languages.split(',').filter(Boolean),
    email: r.email || null,
    isDefault: r.isDefault === 1,
  };
}

export type TargetsRepository = ReturnType<typeof targetsRepository>;

export function targetsRepository(db: Database) {
  const byId = db.prepare(`SELECT ${columns} FROM targets WHERE id = ?`);
  const byCountry = db.prepare(`SELECT ${columns} FROM targets WHERE country_code = ? ORDER BY is_default DESC, id`);
  const defaults = db.prepare(`SELECT ${columns} FROM targets WHERE is_default = 1 ORDER BY country_code`);
  const setEmail = db.prepare('UPDATE targets SET email = @email, updated_at = @now WHERE id = @id');
  const insert = db.prepare(
    `INSERT INTO targets (kind, country_code, name, name_is_placeholder, languages, email, website, is_default,
       created_at, updated_at)
     VALUES (@kind, @country, @name, 0, @languages, @email, @website, 0, @now, @now)`,
  );

  return {
    findById(id: number): Target | undefined {
      const row = byId.get(id) as RawTarget | undefined;
      return row && toTarget(row);
    },
    /** A country's targets, its default first. */
    forCountry(country: string): Target[] {
      return (byCountry.all(country) as RawTarget[]).map(toTarget);
    },
    /** Each country's default target: the 32 delegations to NATO. */
    defaults(): Target[] {
      return (defaults.all() as RawTarget[]).map(toTarget);
    },
    setEmail(id: number, email: string | null, now = Date.now()): boolean {
      return setEmail.run({ id, email, now }).changes === 1;
    },
    /** Adds a further (non-default) target for a country, e.g. its delegation to the Parliamentary Assembly. */
    add(t: Pick<Target, 'kind' | 'country' | 'name' | 'languages' | 'email' | 'website'>, now = Date.now()): number {
      return Number(insert.run({ ...t, languages: t.languages.join(','), now }).lastInsertRowid);
    },
  };
}
