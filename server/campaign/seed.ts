import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../config';
import type { Store } from '../db/store';
import { countersRepository } from '../petitions/countersRepository';
import { seedRepository } from './seedRepository';

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
  /** The name shown and written to: a neutral one where the name as read reads badly. */
  name: string;
  /** The name as read on the delegation's own pages, where `name` differs from it (kept here only). */
  nameAsRead?: string;
  namePlaceholder: boolean;
  languages: string[];
  email: string | null;
  website: string | null;
  joined: number;
}

/**
 * Every NATO delegation sits at NATO Headquarters (as read on nato.int and the delegations' own
 * pages; see migration 0009, which sets the same address on targets seeded before it).
 */
export function postalAddress(delegationName: string): string {
  return `${delegationName}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium`;
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
    const rows = seedRepository(tx);
    for (const code of countries) await rows.addCountry(code);
    for (const t of targets) await rows.markNatoMember(t.country, t.joined);

    const campaignId = await rows.addCampaign({
      slug: campaign.slug,
      source_author: campaign.source.author,
      source_title: campaign.source.title,
      source_publication: campaign.source.publication,
      source_year: campaign.source.year,
    });
    for (const lang of ['en', 'fr'] as const) {
      await rows.addCampaignText({
        campaign_id: campaignId,
        lang,
        title: campaign.texts[lang].title,
        intro: campaign.texts[lang].intro,
        source_role: lang === 'en' ? campaign.source.role : campaign.source.roleFr,
      });
    }

    for (const [i, d] of campaign.demands.entries()) {
      const demandId = await rows.addDemand({ campaign_id: campaignId, slug: d.slug, position: i + 1 });
      for (const lang of ['en', 'fr'] as const) {
        await rows.addDemandText({
          demand_id: demandId,
          lang,
          title: d.texts[lang].title,
          summary: d.texts[lang].summary,
        });
      }
      const petitionId = await rows.addPetition({
        demand_id: demandId,
        slug: d.petition.slug,
        goal: d.petition.goal,
        created_at: now,
      });
      for (const lang of ['en', 'fr'] as const) {
        const text = d.petition.texts[lang];
        await rows.addPetitionText({ petition_id: petitionId, lang, title: text.title, body: text.body });
      }
      await countersRepository(tx).created(petitionId);
    }

    // Only seeds a country's default delegation when it has none: never overwrites an organiser's edit.
    for (const t of targets) {
      if (await rows.hasDefaultTarget(t.country)) {
        // Seeded before under its name as read ("hrvatsko stalno predstavništvo pri NATO-u"): it gets
        // the display name, unless an organiser has renamed it since.
        if (t.nameAsRead && t.nameAsRead !== t.name) {
          await rows.renameDefaultTarget(
            t.country,
            { name: t.nameAsRead, postalAddress: postalAddress(t.nameAsRead) },
            { name: t.name, postalAddress: postalAddress(t.name) },
            now,
          );
        }
        continue;
      }
      await rows.addTarget({
        kind: t.kind as 'nato_delegation',
        country_code: t.country,
        name: t.name,
        name_is_placeholder: t.namePlaceholder ? 1 : 0,
        languages: t.languages.join(','),
        email: t.email,
        website: t.website,
        postal_address: postalAddress(t.name),
        is_default: 1,
        created_at: now,
        updated_at: now,
      });
    }
  });
}
