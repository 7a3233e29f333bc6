/**
 * Precomputes the world map's country outlines as SVG path data (npm run build:map), so that the
 * server draws a choropleth by filling in colours, without projecting anything at run time.
 *
 * Source: Natural Earth 1:110m admin-0 countries, as TopoJSON in the world-atlas package (public
 * domain), projected with d3-geo's Natural Earth projection and rounded to whole pixels.
 * Output: server/map/world-shapes.json — { width, height, shapes: { <ISO alpha-2>: <path d> } }.
 */
import fs from 'node:fs';
import path from 'node:path';
import { geoNaturalEarth1, geoPath } from 'd3-geo';
import type { FeatureCollection, Geometry } from 'geojson';
import { whereNumeric } from 'iso-3166-1';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import world from 'world-atlas/countries-110m.json';
import { compactPath } from './compactPath';

export const width = 960;
export const height = 470;

// Features without an ISO numeric id in Natural Earth, named by their alpha-2 code where one exists.
const byName: Record<string, string> = { Kosovo: 'XK' };

export function buildShapes(): { width: number; height: number; shapes: Record<string, string> } {
  const topology = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const countries = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  // Antarctica takes a fifth of the drawing and never signs: left out.
  const drawn = countries.features.filter((f) => f.id !== '010');
  const projection = geoNaturalEarth1().fitExtent(
    [
      [4, 4],
      [width - 4, height - 4],
    ],
    { type: 'FeatureCollection', features: drawn },
  );
  const toPath = geoPath(projection).digits(0);
  const shapes: Record<string, string> = {};
  for (const f of drawn) {
    const code = f.id === undefined ? byName[f.properties.name] : whereNumeric(String(f.id))?.alpha2;
    const d = toPath(f) && compactPath(toPath(f)!);
    if (!code || !d) continue; // unrecognised territories (e.g. N. Cyprus) stay in the background outline
    shapes[code] = shapes[code] ? shapes[code] + d : d;
  }
  return { width, height, shapes };
}

if (require.main === module) {
  const out = path.join(__dirname, 'world-shapes.json');
  const built = buildShapes();
  fs.writeFileSync(out, JSON.stringify(built) + '\n');
  console.log(`${Object.keys(built.shapes).length} countries, ${fs.statSync(out).size} bytes → ${out}`);
}
