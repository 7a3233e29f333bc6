/**
 * npm run bench:packs — a hand-in pack of BENCH_SIGNATURES (10,000) validated signatures, names in
 * Latin (with diacritics), Greek, Cyrillic and Turkish letters, rendered to a PDF file, against
 * writing the same rows as CSV through the console's export path (keyset pages, writeSignaturesCsv).
 *
 * The signatures are written through the signing path's repository (insert, then validate with the
 * counters), in a temporary SQLite database. Each side then runs in a child process of its own
 * (bench/packsChild.ts, compiled, as the server runs in production), so that its peak memory is its
 * own: the child samples its RSS every 10 ms while it works and reports it with the kernel's maximum
 * (process.resourceUsage().maxRSS), which also counts the child's start.
 *
 * Prints seconds, pages and peak RSS; last line `ratio: <pack seconds ÷ CSV seconds>`.
 * Target: the pack's peak RSS ≤ 150 MB.
 */
import { execFileSync, fork } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../server/logger';
import { petitionsRepository } from '../server/petitions/petitionsRepository';
import { createServices } from '../server/services';
import { consentVersion } from '../server/signatures/consent';
import { signaturesRepository } from '../server/signatures/signaturesRepository';
import { printTable, tempDir, verdict } from './lib';
import { benchConfig, slug, type Report } from './packsChild';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 10_000);
const targetMb = 150;
const root = path.join(__dirname, '..');

/**
 * The children run compiled, as the server does in production (tsx would add its own ~35 MB to
 * what is measured): bench/packsChild.ts and what it imports, into dist/ like `npm run build`.
 */
function compileChild(): void {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node', '--esModuleInterop'];
  execFileSync(
    process.execPath,
    [
      tsc,
      ...flags,
      '--resolveJsonModule',
      '--skipLibCheck',
      '--strict',
      '--types',
      'node',
      '--rootDir',
      '.',
      '--outDir',
      'dist',
      'bench/packsChild.ts',
    ],
    { cwd: root, stdio: 'inherit' },
  );
}

const names = {
  latin: [
    ['Zoë', 'Łukasz', 'François', 'Ana-María', 'Jørgen', 'Dvořák', 'Ærøskøbing', 'Małgorzata'],
    ['Brontë', 'Wiśniewska', 'Núñez Pérez', 'Kovačević', 'Sørensen', 'Ölçer', 'Þórsdóttir', 'Ruiz-Gómez'],
  ],
  greek: [
    ['Γιώργος', 'Ελένη', 'Δημήτρης', 'Αικατερίνη'],
    ['Παπαδόπουλος', 'Καραγιάννη', 'Οικονόμου', 'Βασιλείου'],
  ],
  cyrillic: [
    ['Анна', 'Иван', 'Мария', 'Георги', 'Даниела'],
    ['Иванова', 'Петров', 'Димитрова', 'Стоянов', 'Николова'],
  ],
  turkish: [
    ['İsmail', 'Ayşe', 'Ğülşen', 'Işıl', 'Şule'],
    ['Şahinoğlu', 'Yılmaz', 'Çağlayan', 'Güneş', 'Doğan'],
  ],
};
const scripts = Object.values(names);
const countries = ['DE', 'DE', 'FR', 'GR', 'BG', 'TR', 'PL', 'ES', 'IT', 'CZ'];
const towns = ['Köln', 'Θεσσαλονίκη', 'Пловдив', 'Eskişehir', 'Kraków', null, 'Saint-Rémy-de-Provence', null];

/** Validated signatures through the signing path's repository: insert pending, then validate (and count). */
async function seed(dir: string): Promise<void> {
  const services = await createServices(benchConfig(dir), createLogger('silent'));
  try {
    const { store } = services;
    const petition = await petitionsRepository(store).findBySlug(slug, 'en');
    if (!petition) throw new Error(`no petition ${slug}`);
    const start = Date.UTC(2026, 0, 1);
    for (let from = 0; from < SIGNATURES; from += 500) {
      await store.transaction(async (tx) => {
        const signatures = signaturesRepository(tx);
        for (let i = from; i < Math.min(from + 500, SIGNATURES); i++) {
          const [first, last] = scripts[i % scripts.length]!;
          const name = `${first![i % first!.length]} ${last![Math.floor(i / 7) % last!.length]} ${i}`;
          const at = start + i * 60_000;
          const id = await signatures.insert(
            {
              petitionId: petition.id,
              name,
              email: `signer${i}@example.org`,
              emailCanonical: `signer${i}@example.org`,
              country: countries[i % countries.length]!,
              postcode: towns[i % towns.length] ?? null,
              showPublicly: false,
              updatesOptIn: false,
              consentVersion,
              ipHash: null,
              locale: 'en',
              state: 'pending',
              fraudReason: null,
              now: at,
            },
            1,
          );
          await signatures.validate((await signatures.findById(id))!, at + 30_000);
        }
      });
    }
  } finally {
    await services.close();
  }
}

function runChild(side: 'pack' | 'csv', dir: string, file: string): Promise<Report> {
  const proc = fork(path.join(root, 'dist', 'bench', 'packsChild.js'), [side, dir, file], { execArgv: [] });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve(m as Report));
    proc.once('error', reject);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`the ${side} child exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const dir = tempDir();
  try {
    process.stderr.write(`seeding ${SIGNATURES.toLocaleString('en')} signatures …\n`);
    await seed(dir.path);
    process.stderr.write('compiling bench/packsChild.ts …\n');
    compileChild();
    process.stderr.write('rendering the pack …\n');
    const pack = await runChild('pack', dir.path, path.join(dir.path, 'pack.pdf'));
    process.stderr.write('writing the CSV …\n');
    const csv = await runChild('csv', dir.path, path.join(dir.path, 'signatures.csv'));
    const peak = Math.max(pack.maxRssMb, pack.peakSampledMb);
    printTable([
      ['way', 'seconds', 'pages', 'MB out', 'RSS before MB', 'peak RSS MB (sampled)', 'maxRSS MB'],
      ...[['pack (PDF)', pack] as const, ['CSV (export path)', csv] as const].map(([way, r]) => [
        way,
        r.seconds.toFixed(2),
        r.pages ?? '-',
        (r.bytes / 1e6).toFixed(1),
        r.rssBeforeMb.toFixed(0),
        r.peakSampledMb.toFixed(0),
        r.maxRssMb.toFixed(0),
      ]),
    ]);
    console.log(`signatures: ${SIGNATURES.toLocaleString('en')} (CSV rows: ${csv.rows}), pages: ${pack.pages}`);
    console.log(`pack: ${pack.seconds.toFixed(2)} s, ${pack.pages} pages, peak RSS ${peak.toFixed(0)} MB`);
    console.log(`csv: ${csv.seconds.toFixed(2)} s`);
    console.log(verdict(`target peak RSS ≤ ${targetMb} MB`, peak <= targetMb));
    if (csv.rows !== SIGNATURES) process.exitCode = 1;
    console.log(`ratio: ${(pack.seconds / csv.seconds).toFixed(2)}`);
  } finally {
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
