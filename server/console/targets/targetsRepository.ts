import type { Database } from '../../db/database';

export const targetKinds = ['nato_delegation', 'parliamentary_assembly', 'minister'] as const;
export type TargetKind = (typeof targetKinds)[number];

export interface TargetRecord {
  id: number;
  kind: TargetKind;
  country: string;
  name: string;
  namePlaceholder: boolean;
  languages: string[];
  email: string | null;
  website: string | null;
  isDefault: boolean;
}

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

const toRecord = (r: Row): TargetRecord => ({
  ...r,
  namePlaceholder: r.namePlaceholder === 1,
  isDefault: r.isDefault === 1,
  languages: r.languages ? r.languages.split(',') : [],
});

const columns = `id, kind, country_code AS country, name, name_is_placeholder AS namePlaceholder, languages, email,
  website, is_default AS isDefault`;

export type TargetsRepository = ReturnType<typeof targetsRepository>;

export function targetsRepository(db: Database) {
  const all = db.prepare(`SELECT ${columns} FROM targets ORDER BY country_code, is_default DESC, name, id`);
  const byId = db.prepare(`SELECT ${columns} FROM targets WHERE id = ?`);
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
  const countries = db.prepare('SELECT code FROM countries').pluck();
  const withoutAddress = db.prepare(
    `SELECT c.code FROM countries c
     WHERE c.nato_member = 1 AND NOT EXISTS (
       SELECT 1 FROM targets t WHERE t.country_code = c.code AND t.is_default = 1 AND coalesce(t.email, '') <> '')
     ORDER BY c.code`,
  );

  const params = (t: TargetFields, now: number) => ({ ...t, languages: t.languages.join(','), now });

  return {
    list(): TargetRecord[] {
      return (all.all() as Row[]).map(toRecord);
    },
    find(id: number): TargetRecord | undefined {
      const row = byId.get(id) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    create(t: TargetFields, now: number): number {
      return Number(insert.run(params(t, now)).lastInsertRowid);
    },
    update(id: number, t: TargetFields, now: number): boolean {
      return update.run({ id, ...params(t, now) }).changes === 1;
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
