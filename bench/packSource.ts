/**
 * A PackDocument for bench:packs, read from a petition's validated signatures a page at a time (the
 * export's keyset pages): a stand-in for the packs service, kept apart so it can be swapped for it.
 * Every pass over `signers()` reads the rows afresh, so nothing but one page is held at once.
 */
import crypto from 'node:crypto';
import { displayCountry } from '../server/campaign/countries';
import { exportRepository } from '../server/console/exports/exportRepository';
import { csvRow } from '../server/csv';
import type { Store } from '../server/db/store';
import type { Lang } from '../server/i18n/i18n';
import type { PackDocument, PackSigner } from '../server/packs/packDocument';
import { petitionsRepository } from '../server/petitions/petitionsRepository';

export async function benchPackDocument(
  store: Store,
  options: { slug: string; country: string; lang: Lang; targetName: string; baseUrl: string },
): Promise<PackDocument> {
  const petitions = petitionsRepository(store);
  const petition = await petitions.findBySlug(options.slug, options.lang);
  const campaign = await petitions.campaign(options.lang);
  if (!petition || !campaign) throw new Error(`no petition ${options.slug}`);
  const exports = exportRepository(store);
  const filters = { petitionId: petition.id, state: 'validated' as const, optedIn: false };
  const upTo = await exports.highestId();

  async function* signers(): AsyncIterable<PackSigner> {
    for await (const rows of exports.pages(filters, { upTo })) {
      for (const row of rows) {
        yield {
          name: row.name,
          town: row.postcode,
          countryName: displayCountry(row.country, options.lang),
          signedAt: row.validatedAt ?? row.createdAt,
        };
      }
    }
  }

  // One pass for what the cover states: counts, dates and the CSV's checksum (the digest's columns).
  const hash = crypto.createHash('sha256').update(csvRow(['name', 'postcode_or_town', 'country', 'date_signed']));
  const countryName = displayCountry(options.country, options.lang);
  let count = 0;
  let fromCountry = 0;
  let first: number | null = null;
  let last: number | null = null;
  for await (const s of signers()) {
    count++;
    if (s.countryName === countryName) fromCountry++;
    first = Math.min(first ?? s.signedAt, s.signedAt);
    last = Math.max(last ?? s.signedAt, s.signedAt);
    hash.update(csvRow([s.name, s.town ?? '', s.countryName, new Date(s.signedAt).toISOString().slice(0, 10)]));
  }
  const csvSha256 = hash.digest('hex');

  return {
    batchId: 1,
    lang: options.lang,
    target: {
      name: options.targetName,
      countryName,
      postalAddress: `${options.targetName}, NATO Headquarters, Boulevard Léopold III, 1110 Brussels, Belgium`,
    },
    petition: { slug: petition.slug, title: petition.title, body: petition.body, demandTitle: petition.demandTitle },
    campaign: {
      sourceAuthor: campaign.source.author,
      sourceTitle: campaign.source.title,
      sourcePublication: campaign.source.publication,
    },
    createdAt: Date.now(),
    totals: { thisPack: count, runningTotal: count, fromCountry, fromOthers: count - fromCountry, letters: 0 },
    integrity: { confirmedByEmail: true, invalidated: 0, firstSigned: first, lastSigned: last },
    csvSha256,
    verifyUrl: `${options.baseUrl}/verify/${csvSha256.slice(0, 12)}`,
    signers,
    async *letters() {},
  };
}
