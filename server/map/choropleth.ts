import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../config';

/** The outlines built by buildWorldShapes.ts (npm run build:map), read once. */
interface WorldShapes {
  width: number;
  height: number;
  shapes: Record<string, string>;
}

let world: WorldShapes | undefined;
function worldShapes(): WorldShapes {
  world ??= JSON.parse(
    fs.readFileSync(path.join(appRoot, 'server', 'map', 'world-shapes.json'), 'utf8'),
  ) as WorldShapes;
  return world;
}

/** Five shades of one hue, light to dark (ColorBrewer "Blues", 5 classes). */
export const shades = ['#bdd7e7', '#6baed6', '#3182bd', '#08519c', '#08306b'] as const;
const noSignatures = '#e8e8e8';

export interface MapText {
  title: string;
  desc: string;
  /** "{{country}}: {{count}} signatures", already formatted per country. */
  countryLabel: (code: string, count: number) => string;
  legendNone: string;
  legendRange: (from: number, to: number) => string;
}

/**
 * Class limits for counts up to `max`: log-spaced, so that one country with most of the signatures
 * does not leave every other one in the lightest shade. Answers the upper bound of each class.
 */
export function classLimits(max: number): number[] {
  if (max <= shades.length) return Array.from({ length: max }, (_, i) => i + 1);
  const limits: number[] = [];
  for (let i = 1; i <= shades.length; i++) {
    const limit = Math.round(Math.expm1((Math.log1p(max) * i) / shades.length));
    if (limit > (limits.at(-1) ?? 0)) limits.push(limit);
  }
  limits[limits.length - 1] = max;
  return limits;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * A world map shaded by signatures per country, as a standalone SVG document: a path per country
 * (those with signatures carry data-country, data-count and a <title>), a legend, and the
 * document's own <title> and <desc>. The page shows the same figures as a table beside it.
 */
export function choroplethSvg(counts: Array<{ country: string; count: number }>, text: MapText): string {
  const { width, height, shapes } = worldShapes();
  const byCountry = new Map(counts.filter((c) => c.count > 0).map((c) => [c.country, c.count]));
  const limits = classLimits(Math.max(0, ...byCountry.values()));
  // With fewer classes than shades (small counts), use the darker end so every class stands out.
  const palette = shades.slice(shades.length - limits.length);
  const shadeOf = (count: number) => palette[limits.findIndex((limit) => count <= limit)];

  let body = '';
  for (const [code, d] of Object.entries(shapes)) {
    const count = byCountry.get(code);
    if (count === undefined) {
      body += `<path d="${d}" fill="${noSignatures}"/>`;
    } else {
      const label = escapeXml(text.countryLabel(code, count));
      body += `<path d="${d}" fill="${shadeOf(count)}" data-country="${code}" data-count="${count}"><title>${label}</title></path>`;
    }
  }

  const legendY = height + 12;
  let legend = `<g class="legend" font-family="sans-serif" font-size="13" fill="#0b0c0c">`;
  const entries: Array<[string, string]> = [[noSignatures, text.legendNone]];
  limits.forEach((limit, i) => entries.push([palette[i]!, text.legendRange(i === 0 ? 1 : limits[i - 1]! + 1, limit)]));
  const step = Math.floor(width / entries.length);
  entries.forEach(([fill, label], i) => {
    const x = 8 + i * step;
    legend += `<rect x="${x}" y="${legendY}" width="16" height="16" fill="${fill}" stroke="#505a5f" stroke-width="0.5"/>`;
    legend += `<text x="${x + 22}" y="${legendY + 13}">${escapeXml(label)}</text>`;
  });
  legend += '</g>';

  const fullHeight = height + 40;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${fullHeight}" width="${width}" height="${fullHeight}" role="img" aria-labelledby="map-title map-desc">` +
    `<title id="map-title">${escapeXml(text.title)}</title><desc id="map-desc">${escapeXml(text.desc)}</desc>` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>` +
    `<g stroke="#ffffff" stroke-width="0.5" stroke-linejoin="round">${body}</g>${legend}</svg>`
  );
}
