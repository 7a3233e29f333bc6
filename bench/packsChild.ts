/**
 * One side of bench:packs in a process of its own, importing only what that side needs, so that its
 * memory is the work's and not the whole app's: `pack` renders the pack PDF, `csv` writes the same
 * rows through the export path. Reports seconds, size and memory to the parent (bench/packs.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { exportRepository } from '../server/console/exports/exportRepository';
import { writeSignaturesCsv } from '../server/console/exports/exportService';
import { loadConfig, type Config } from '../server/config';
import { openStore } from '../server/db/open';
import { renderPackPdf } from '../server/packs/packPdf';
import { petitionsRepository } from '../server/petitions/petitionsRepository';
import { benchPackDocument } from './packSource';

export const slug = 'fund-defence-fairly';

export function benchConfig(dir: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SECRET: 'bench-secret-bench-secret-bench-secret',
    BASE_URL: 'http://bench.localhost',
    DATABASE_PATH: path.join(dir, 'bench.db'),
    DATA_DIR: dir,
  });
}

export interface Report {
  seconds: number;
  pages?: number;
  rows?: number;
  bytes: number;
  rssBeforeMb: number;
  peakSampledMb: number;
  maxRssMb: number;
}

/** In the child: the pack (`pack`) or the CSV (`csv`) of every validated signature, written to `file`. */
async function run(side: 'pack' | 'csv', dir: string, file: string): Promise<Report> {
  const { store } = await openStore(benchConfig(dir));
  try {
    const out = fs.createWriteStream(file);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const start = process.hrtime.bigint();
    let pages: number | undefined;
    let rows: number | undefined;
    if (side === 'pack') {
      const doc = await benchPackDocument(store, {
        slug,
        country: 'DE',
        lang: 'en',
        targetName: 'Permanent Delegation of Germany to NATO',
        baseUrl: 'http://bench.localhost',
      });
      pages = (await renderPackPdf(doc, out)).pages;
    } else {
      const petitions = petitionsRepository(store);
      const petitionId = (await petitions.findBySlug(slug, 'en'))!.id;
      const pagesOfRows = exportRepository(store).pages({ petitionId, state: 'validated', optedIn: false });
      rows = await writeSignaturesCsv(pagesOfRows, out, { slugOf: () => slug });
      out.end();
      await finished(out);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const mb = (bytes: number) => bytes / 1024 / 1024;
    return {
      seconds,
      pages,
      rows,
      bytes: fs.statSync(file).size,
      rssBeforeMb: mb(rssBefore),
      peakSampledMb: mb(peak),
      // maxRSS is in kilobytes.
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  const [side, dir, file] = process.argv.slice(2) as ['pack' | 'csv', string, string];
  run(side, dir, file).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
