import type { Database } from '../../db/database';
import type { Lang } from '../../i18n/i18n';

export interface Texts {
  title: string;
  body: string;
}

export interface PetitionRecord {
  id: number;
  slug: string;
  goal: number;
  state: 'open' | 'closed';
  demandSlug: string | null;
  closedAt: number | null;
  texts: Partial<Record<Lang, Texts>>;
  targetIds: number[];
}

export interface DemandRecord {
  id: number;
  slug: string;
  petitionSlug: string | null;
  texts: Partial<Record<Lang, { title: string; summary: string }>>;
}

export type PetitionAdminRepository = ReturnType<typeof petitionAdminRepository>;

/** The console's writes to petitions, their texts and fixed targets, and to the demands' texts. */
export function petitionAdminRepository(db: Database) {
  const bySlug = db.prepare(
    `SELECT p.id, p.slug, p.goal, p.state, p.closed_at AS closedAt, d.slug AS demandSlug
     FROM petitions p LEFT JOIN demands d ON d.id = p.demand_id WHERE p.slug = ?`,
  );
  const texts = db.prepare('SELECT lang, title, body FROM petition_texts WHERE petition_id = ?');
  const targetIds = db
    .prepare('SELECT target_id FROM petition_targets WHERE petition_id = ? ORDER BY target_id')
    .pluck();
  const insert = db.prepare(
    `INSERT INTO petitions (demand_id, slug, goal, state, created_at)
     VALUES ((SELECT id FROM demands WHERE slug = @demandSlug), @slug, @goal, 'closed', @now)`,
  );
  const insertCounts = db.prepare('INSERT INTO petition_counts (petition_id) VALUES (?) ON CONFLICT DO NOTHING');
  const updateGoal = db.prepare(
    'UPDATE petitions SET goal = @goal, demand_id = (SELECT id FROM demands WHERE slug = @demandSlug) WHERE id = @id',
  );
  const upsertText = db.prepare(
    `INSERT INTO petition_texts (petition_id, lang, title, body) VALUES (@id, @lang, @title, @body)
     ON CONFLICT (petition_id, lang) DO UPDATE SET title = excluded.title, body = excluded.body`,
  );
  const deleteText = db.prepare('DELETE FROM petition_texts WHERE petition_id = ? AND lang = ?');
  const clearTargets = db.prepare('DELETE FROM petition_targets WHERE petition_id = ?');
  const addTarget = db.prepare(
    'INSERT INTO petition_targets (petition_id, target_id) SELECT ?, id FROM targets WHERE id = ? AND is_default = 0',
  );
  const slugTaken = db.prepare('SELECT 1 FROM petitions WHERE slug = ?').pluck();
  const demands = db.prepare(
    `SELECT d.id, d.slug, (SELECT slug FROM petitions p WHERE p.demand_id = d.id ORDER BY p.id LIMIT 1) AS petitionSlug
     FROM demands d ORDER BY d.position`,
  );
  const demandBySlug = db.prepare('SELECT id, slug FROM demands WHERE slug = ?');
  const demandTexts = db.prepare('SELECT lang, title, summary FROM demand_texts WHERE demand_id = ?');
  const upsertDemandText = db.prepare(
    `INSERT INTO demand_texts (demand_id, lang, title, summary) VALUES (@id, @lang, @title, @summary)
     ON CONFLICT (demand_id, lang) DO UPDATE SET title = excluded.title, summary = excluded.summary`,
  );

  function demandTextsOf(id: number): DemandRecord['texts'] {
    const rows = demandTexts.all(id) as Array<{ lang: Lang; title: string; summary: string }>;
    return Object.fromEntries(rows.map((r) => [r.lang, { title: r.title, summary: r.summary }]));
  }

  function writeTexts(id: number, all: Partial<Record<Lang, Texts>>) {
    for (const lang of ['en', 'fr'] as const) {
      const t = all[lang];
      if (t) upsertText.run({ id, lang, ...t });
      else deleteText.run(id, lang); // no French text: the page falls back to English
    }
  }

  function writeTargets(id: number, ids: number[]) {
    clearTargets.run(id);
    for (const targetId of ids) addTarget.run(id, targetId);
  }

  return {
    find(slug: string): PetitionRecord | undefined {
      const row = bySlug.get(slug) as Omit<PetitionRecord, 'texts' | 'targetIds'> | undefined;
      if (!row) return undefined;
      const rows = texts.all(row.id) as Array<{ lang: Lang; title: string; body: string }>;
      return {
        ...row,
        texts: Object.fromEntries(rows.map((r) => [r.lang, { title: r.title, body: r.body }])),
        targetIds: targetIds.all(row.id) as number[],
      };
    },
    slugTaken(slug: string): boolean {
      return slugTaken.get(slug) !== undefined;
    },
    /** A new petition starts closed, so it can be read over before it is opened. */
    create(p: {
      slug: string;
      goal: number;
      demandSlug: string | null;
      texts: Partial<Record<Lang, Texts>>;
      targetIds: number[];
      now: number;
    }): number {
      return db.transaction(() => {
        const id = Number(insert.run(p).lastInsertRowid);
        insertCounts.run(id);
        writeTexts(id, p.texts);
        writeTargets(id, p.targetIds);
        return id;
      })();
    },
    update(
      id: number,
      p: { goal: number; demandSlug: string | null; texts: Partial<Record<Lang, Texts>>; targetIds: number[] },
    ): void {
      db.transaction(() => {
        updateGoal.run({ id, goal: p.goal, demandSlug: p.demandSlug });
        writeTexts(id, p.texts);
        writeTargets(id, p.targetIds);
      })();
    },
    demands(): DemandRecord[] {
      return (demands.all() as Array<Omit<DemandRecord, 'texts'>>).map((d) => ({ ...d, texts: demandTextsOf(d.id) }));
    },
    findDemand(slug: string): DemandRecord | undefined {
      const d = demandBySlug.get(slug) as { id: number; slug: string } | undefined;
      return d ? { ...d, petitionSlug: null, texts: demandTextsOf(d.id) } : undefined;
    },
    updateDemand(id: number, all: Record<Lang, { title: string; summary: string }>): void {
      db.transaction(() => {
        for (const lang of ['en', 'fr'] as const) upsertDemandText.run({ id, lang, ...all[lang] });
      })();
    },
  };
}
