import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../config';
import type { Store } from '../db/store';
import { countersRepository } from '../petitions/countersRepository';

interface Texts<T> {
  en: T;
  fr: T;
}

interface CampaignSeed {
  slug: string;
  texts: Texts<{ title: string; intro: string }>;
  source: { author: string; role: string; roleFr: string; title: string; publication: string; year: number };
  demands: Array<{
    slug: string;
    texts: Texts<{ title: string; summary: string }>;
    petition: { slug: string; goal: number; texts: Texts<{ title: string; body: string }> };
  }>;
}

interface TargetSeed {
  country: string;
  kind: string;
  name: string;
  namePlaceholder: boolean;
  languages: string[];
  email: string | null;
  website: string | null;
  joined: number;
}

function readJson<T>(dir: string, file: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as T;
}

/**
 * Seeds the campaign from db/seed/*.json, on either database, in one transaction. Idempotent: rows
 * that exist are left as they are, so an organiser's later edits (a delegation's address, say)
 * survive every restart.
 */
export async function seed(store: Store, dir = path.join(appRoot, 'db', 'seed'), now = Date.now()): Promise<void> {
  const countries = readJson<string[]>(dir, 'countries.json');
  const campaign = readJson<CampaignSeed>(dir, 'campaign.json');
  const targets = readJson<TargetSeed[]>(dir, 'targets.json');

  await store.transaction(async (tx) => {
    const { qb } = tx;
    for (const code of countries) {
      await tx.run(
        qb
          .insertInto('countries')
          .values({ code })
          .onConflict((oc) => oc.doNothing()),
      );
    }
    for (const t of targets) {
      await tx.run(
        qb.updateTable('countries').set({ nato_member: 1, nato_joined: t.joined }).where('code', '=', t.country),
      );
    }

    await tx.run(
      qb
        .insertInto('campaigns')
        .values({
          slug: campaign.slug,
          source_author: campaign.source.author,
          source_title: campaign.source.title,
          source_publication: campaign.source.publication,
          source_year: campaign.source.year,
        })
        .onConflict((oc) => oc.column('slug').doNothing()),
    );
    const campaignId = (await tx.first(qb.selectFrom('campaigns').select('id').where('slug', '=', campaign.slug)))!.id;
    for (const lang of ['en', 'fr'] as const) {
      await tx.run(
        qb
          .insertInto('campaign_texts')
          .values({
            campaign_id: campaignId,
            lang,
            title: campaign.texts[lang].title,
            intro: campaign.texts[lang].intro,
            source_role: lang === 'en' ? campaign.source.role : campaign.source.roleFr,
          })
          .onConflict((oc) => oc.doNothing()),
      );
    }

    for (const [i, d] of campaign.demands.entries()) {
      await tx.run(
        qb
          .insertInto('demands')
          .values({ campaign_id: campaignId, slug: d.slug, position: i + 1 })
          .onConflict((oc) => oc.column('slug').doNothing()),
      );
      const demandId = (await tx.first(qb.selectFrom('demands').select('id').where('slug', '=', d.slug)))!.id;
      for (const lang of ['en', 'fr'] as const) {
        await tx.run(
          qb
            .insertInto('demand_texts')
            .values({ demand_id: demandId, lang, title: d.texts[lang].title, summary: d.texts[lang].summary })
            .onConflict((oc) => oc.doNothing()),
        );
      }
      await tx.run(
        qb
          .insertInto('petitions')
          .values({ demand_id: demandId, slug: d.petition.slug, goal: d.petition.goal, created_at: now })
          .onConflict((oc) => oc.column('slug').doNothing()),
      );
      const petitionId = (await tx.first(qb.selectFrom('petitions').select('id').where('slug', '=', d.petition.slug)))!
        .id;
      for (const lang of ['en', 'fr'] as const) {
        const text = d.petition.texts[lang];
        await tx.run(
          qb
            .insertInto('petition_texts')
            .values({ petition_id: petitionId, lang, title: text.title, body: text.body })
            .onConflict((oc) => oc.doNothing()),
        );
      }
      await countersRepository(tx).created(petitionId);
    }

    // Only seeds a country's default delegation when it has none: never overwrites an organiser's edit.
    for (const t of targets) {
      const existing = await tx.first(
        qb.selectFrom('targets').select('id').where('country_code', '=', t.country).where('is_default', '=', 1),
      );
      if (existing) continue;
      await tx.run(
        qb.insertInto('targets').values({
          kind: t.kind as 'nato_delegation',
          country_code: t.country,
          name: t.name,
          name_is_placeholder: t.namePlaceholder ? 1 : 0,
          languages: t.languages.join(','),
          email: t.email,
          website: t.website,
          is_default: 1,
          created_at: now,
          updated_at: now,
        }),
      );
    }
  });
}
