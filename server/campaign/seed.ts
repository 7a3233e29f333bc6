import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../config';
import type { Database } from '../db/database';

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
 * Seeds the campaign from db/seed/*.json. Idempotent: rows that exist are left as they are, so an
 * organiser's later edits (a delegation's address, say) survive every restart.
 */
export function seed(db: Database, dir = path.join(appRoot, 'db', 'seed'), now = Date.now()): void {
  const countries = readJson<string[]>(dir, 'countries.json');
  const campaign = readJson<CampaignSeed>(dir, 'campaign.json');
  const targets = readJson<TargetSeed[]>(dir, 'targets.json');

  db.transaction(() => {
    const country = db.prepare('INSERT INTO countries (code) VALUES (?) ON CONFLICT DO NOTHING');
    for (const code of countries) country.run(code);
    const member = db.prepare('UPDATE countries SET nato_member = 1, nato_joined = ? WHERE code = ?');
    for (const t of targets) member.run(t.joined, t.country);

    db.prepare(
      `INSERT INTO campaigns (slug, source_author, source_title, source_publication, source_year)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
    ).run(
      campaign.slug,
      campaign.source.author,
      campaign.source.title,
      campaign.source.publication,
      campaign.source.year,
    );
    const campaignId = db.prepare('SELECT id FROM campaigns WHERE slug = ?').pluck().get(campaign.slug) as number;
    const campaignText = db.prepare(
      `INSERT INTO campaign_texts (campaign_id, lang, title, intro, source_role) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    campaignText.run(campaignId, 'en', campaign.texts.en.title, campaign.texts.en.intro, campaign.source.role);
    campaignText.run(campaignId, 'fr', campaign.texts.fr.title, campaign.texts.fr.intro, campaign.source.roleFr);

    const demand = db.prepare(
      'INSERT INTO demands (campaign_id, slug, position) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING',
    );
    const demandId = db.prepare('SELECT id FROM demands WHERE slug = ?').pluck();
    const demandText = db.prepare(
      'INSERT INTO demand_texts (demand_id, lang, title, summary) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    const petition = db.prepare(
      `INSERT INTO petitions (demand_id, slug, goal, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
    );
    const petitionId = db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck();
    const petitionText = db.prepare(
      'INSERT INTO petition_texts (petition_id, lang, title, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    const counts = db.prepare('INSERT INTO petition_counts (petition_id) VALUES (?) ON CONFLICT DO NOTHING');
    campaign.demands.forEach((d, i) => {
      demand.run(campaignId, d.slug, i + 1);
      const dId = demandId.get(d.slug) as number;
      for (const lang of ['en', 'fr'] as const) demandText.run(dId, lang, d.texts[lang].title, d.texts[lang].summary);
      petition.run(dId, d.petition.slug, d.petition.goal, now);
      const pId = petitionId.get(d.petition.slug) as number;
      for (const lang of ['en', 'fr'] as const) {
        petitionText.run(pId, lang, d.petition.texts[lang].title, d.petition.texts[lang].body);
      }
      counts.run(pId);
    });

    // Only seeds a country's default delegation when it has none: never overwrites an organiser's edit.
    const hasDefault = db.prepare('SELECT 1 FROM targets WHERE country_code = ? AND is_default = 1').pluck();
    const target = db.prepare(
      `INSERT INTO targets (kind, country_code, name, name_is_placeholder, languages, email, website, is_default, created_at, updated_at)
       VALUES (@kind, @country, @name, @placeholder, @languages, @email, @website, 1, @now, @now)`,
    );
    for (const t of targets) {
      if (hasDefault.get(t.country)) continue;
      target.run({
        kind: t.kind,
        country: t.country,
        name: t.name,
        placeholder: t.namePlaceholder ? 1 : 0,
        languages: t.languages.join(','),
        email: t.email,
        website: t.website,
        now,
      });
    }
  })();
}
