import crypto from 'node:crypto';
import type { i18n } from 'i18next';
import { displayCountry } from '../campaign/countries';
import type { Lang } from '../i18n/i18n';
import { numberFormat } from '../views/helpers/formatNumber';
import { choroplethSvg } from './choropleth';

export interface RenderedMap {
  svg: string;
  /** The SVG's bytes, as sent. */
  body: Buffer;
  etag: string;
}

/**
 * The signatures-by-country map of a petition, in a reader's language. Drawing it is a string join
 * of ~175 outlines; the result is kept per petition and language until the counts change.
 */
export function createPetitionMaps(i18next: i18n) {
  const cache = new Map<string, { counts: string; map: RenderedMap }>();

  return function petitionMap(
    slug: string,
    lang: Lang,
    counts: Array<{ country: string; count: number }>,
  ): RenderedMap {
    const key = `${slug}:${lang}`;
    const signature = counts.map((c) => `${c.country}=${c.count}`).join(',');
    const hit = cache.get(key);
    if (hit && hit.counts === signature) return hit.map;

    const t = i18next.getFixedT(lang);
    const format = numberFormat(lang);
    const svg = choroplethSvg(counts, {
      title: t('petition.map.title'),
      desc: t('petition.map.desc'),
      countryLabel: (code, count) =>
        t('petition.map.country', { country: displayCountry(code, lang), count, formatted: format.format(count) }),
      legendNone: t('petition.map.none'),
      legendRange: (from, to) =>
        from === to
          ? t('petition.map.single', { from: format.format(from) })
          : t('petition.map.range', { from: format.format(from), to: format.format(to) }),
    });
    const body = Buffer.from(svg);
    const map = { svg, body, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    if (cache.size > 1000) cache.clear();
    cache.set(key, { counts: signature, map });
    return map;
  };
}
