import { sql } from 'kysely';
import { prepared, type Executor, type Params } from '../../db/store';
import type { Lang } from '../../i18n/i18n';
import { countersRepository } from '../../petitions/countersRepository';

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
  closesAt: number | null;
  texts: Partial<Record<Lang, Texts>>;
  targetIds: number[];
}

export interface DemandRecord {
  id: number;
  slug: string;
  petitionSlug: string | null;
  texts: Partial<Record<Lang, { title: string; summary: string }>>;
}

const bySlug = prepared((qb, p: Params<{ slug: string }>) =>
  qb
    .selectFrom('petitions as p')
    .leftJoin('demands as d', 'd.id', 'p.demand_id')
    .select([
      'p.id',
      'p.slug',
      'p.goal',
      'p.state',
      'p.closed_at as closedAt',
      'p.closes_at as closesAt',
      'd.slug as demandSlug',
    ])
    .where('p.slug', '=', p.slug),
);
const texts = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('petition_texts').select(['lang', 'title', 'body']).where('petition_id', '=', p.id),
);
const targetIds = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('petition_targets').select('target_id').where('petition_id', '=', p.id).orderBy('target_id'),
);
const insert = prepared(
  (_qb, p: Params<{ demandSlug: string | null; slug: string; goal: number; closesAt: number | null; now: number }>) =>
    sql<{ id: number }>`INSERT INTO petitions (demand_id, slug, goal, state, closes_at, created_at)
     VALUES ((SELECT id FROM demands WHERE slug = ${p.demandSlug}), ${p.slug}, ${p.goal}, 'closed', ${p.closesAt}, ${p.now})
     RETURNING id`,
);
const updateGoal = prepared(
  (_qb, p: Params<{ id: number; goal: number; demandSlug: string | null; closesAt: number | null }>) =>
    sql`UPDATE petitions SET goal = ${p.goal}, demand_id = (SELECT id FROM demands WHERE slug = ${p.demandSlug}),
       closes_at = ${p.closesAt}
     WHERE id = ${p.id}`,
);
const upsertText = prepared((qb, p: Params<{ id: number; lang: Lang; title: string; body: string }>) =>
  qb
    .insertInto('petition_texts')
    .values({ petition_id: p.id, lang: p.lang, title: p.title, body: p.body })
    .onConflict((oc) =>
      oc.columns(['petition_id', 'lang']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        body: eb.ref('excluded.body'),
      })),
    ),
);
const deleteText = prepared((qb, p: Params<{ id: number; lang: Lang }>) =>
  qb.deleteFrom('petition_texts').where('petition_id', '=', p.id).where('lang', '=', p.lang),
);
const clearTargets = prepared((qb, p: Params<{ id: number }>) =>
  qb.deleteFrom('petition_targets').where('petition_id', '=', p.id),
);
const addTarget = prepared((qb, p: Params<{ id: number; targetId: number }>) =>
  qb.insertInto('petition_targets').values({ petition_id: p.id, target_id: p.targetId }),
);
const slugTaken = prepared((qb, p: Params<{ slug: string }>) =>
  qb.selectFrom('petitions').select('id').where('slug', '=', p.slug),
);
const demands = prepared(
  () =>
    sql<Omit<DemandRecord, 'texts'>>`SELECT d.id, d.slug,
       (SELECT slug FROM petitions p WHERE p.demand_id = d.id ORDER BY p.id LIMIT 1) AS "petitionSlug"
     FROM demands d ORDER BY d.position`,
);
const demandBySlug = prepared((qb, p: Params<{ slug: string }>) =>
  qb.selectFrom('demands').select(['id', 'slug']).where('slug', '=', p.slug),
);
const demandTexts = prepared((qb, p: Params<{ id: number }>) =>
  qb.selectFrom('demand_texts').select(['lang', 'title', 'summary']).where('demand_id', '=', p.id),
);
const upsertDemandText = prepared((qb, p: Params<{ id: number; lang: Lang; title: string; summary: string }>) =>
  qb
    .insertInto('demand_texts')
    .values({ demand_id: p.id, lang: p.lang, title: p.title, summary: p.summary })
    .onConflict((oc) =>
      oc.columns(['demand_id', 'lang']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        summary: eb.ref('excluded.summary'),
      })),
    ),
);

export type PetitionAdminRepository = ReturnType<typeof petitionAdminRepository>;

/**
 * The console's writes to petitions, their texts and fixed targets, and to the demands' texts.
 * `create`, `update` and `updateDemand` write several rows: call them on a transaction.
 */
export function petitionAdminRepository(db: Executor) {
  async function demandTextsOf(id: number): Promise<DemandRecord['texts']> {
    const rows = await db.all(demandTexts, { id });
    return Object.fromEntries(rows.map((r) => [r.lang, { title: r.title, summary: r.summary }]));
  }

  async function writeTexts(id: number, all: Partial<Record<Lang, Texts>>) {
    for (const lang of ['en', 'fr'] as const) {
      const t = all[lang];
      if (t) await db.run(upsertText, { id, lang, ...t });
      else await db.run(deleteText, { id, lang }); // no French text: the page falls back to English
    }
  }

  /** Only fixed addressees: a default target (each signer's own delegation) is never attached. */
  async function writeTargets(id: number, ids: number[]) {
    await db.run(clearTargets, { id });
    const wanted = [...new Set(ids)];
    for (let i = 0; i < wanted.length; i += 500) {
      const fixed = await db.all(
        db.qb
          .selectFrom('targets')
          .select('id')
          .where('id', 'in', wanted.slice(i, i + 500))
          .where('is_default', '=', 0),
      );
      const known = new Set(fixed.map((t) => t.id));
      for (const targetId of wanted.slice(i, i + 500)) {
        if (known.has(targetId)) await db.run(addTarget, { id, targetId });
      }
    }
  }

  return {
    async find(slug: string): Promise<PetitionRecord | undefined> {
      const row = await db.first(bySlug, { slug });
      if (!row) return undefined;
      const rows = await db.all(texts, { id: row.id });
      return {
        ...row,
        texts: Object.fromEntries(rows.map((r) => [r.lang, { title: r.title, body: r.body }])),
        targetIds: (await db.all(targetIds, { id: row.id })).map((r) => r.target_id),
      };
    },
    async slugTaken(slug: string): Promise<boolean> {
      return (await db.first(slugTaken, { slug })) !== undefined;
    },
    /** A new petition starts closed, so it can be read over before it is opened. */
    async create(p: {
      slug: string;
      goal: number;
      demandSlug: string | null;
      texts: Partial<Record<Lang, Texts>>;
      targetIds: number[];
      /** When it closes itself (none if left out). */
      closesAt?: number | null;
      now: number;
    }): Promise<number> {
      const { id } = (await db.first(insert, { ...p, closesAt: p.closesAt ?? null }))!;
      await countersRepository(db).created(id);
      await writeTexts(id, p.texts);
      await writeTargets(id, p.targetIds);
      return id;
    },
    async update(
      id: number,
      p: {
        goal: number;
        demandSlug: string | null;
        texts: Partial<Record<Lang, Texts>>;
        targetIds: number[];
        /** Its closing time; left out, it has none. */
        closesAt?: number | null;
      },
    ): Promise<void> {
      await db.run(updateGoal, { id, goal: p.goal, demandSlug: p.demandSlug, closesAt: p.closesAt ?? null });
      await writeTexts(id, p.texts);
      await writeTargets(id, p.targetIds);
    },
    async demands(): Promise<DemandRecord[]> {
      const rows = await db.all(demands);
      return Promise.all(rows.map(async (d) => ({ ...d, texts: await demandTextsOf(d.id) })));
    },
    async findDemand(slug: string): Promise<DemandRecord | undefined> {
      const d = await db.first(demandBySlug, { slug });
      return d ? { ...d, petitionSlug: null, texts: await demandTextsOf(d.id) } : undefined;
    },
    async updateDemand(id: number, all: Record<Lang, { title: string; summary: string }>): Promise<void> {
      for (const lang of ['en', 'fr'] as const) await db.run(upsertDemandText, { id, lang, ...all[lang] });
    },
  };
}
