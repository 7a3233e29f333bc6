import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { root, runCli } from '../helpers/cli';
import { addValidatedSignaturesTo } from '../helpers/factories';
import { addPostLetterTo } from '../helpers/packs';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { databaseEnv } from '../helpers/testStore';

const slug = 'fund-defence-fairly';
// Until server/packs/packPdf.ts (another change) is merged, the CLI writes the CSVs and says why no PDF.
const pdfInBuild = fs.existsSync(path.join(root, 'server', 'packs', 'packPdf.ts'));

describe('npm run deliver -- --packs DIR and --status', () => {
  let t: TestApp;
  let env: Record<string, string>;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    env = {
      NODE_ENV: 'test',
      ...databaseEnv(t.services.config),
      DATA_DIR: t.dir,
      SECRET: t.services.config.secret,
      BASE_URL: 'http://localhost:3000',
    };
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Gerda Müller', country: 'DE' },
      { name: 'Jan Kowalski', country: 'PL' },
      { name: 'Giulia', country: 'IT' }, // Italy's delegation has an email: a digest, not a pack
    ]);
    await addPostLetterTo(t.services.store, {
      demand: 'progressive-taxation',
      country: 'PL',
      name: 'Anna',
      email: 'anna@example.org',
    });
  });
  afterEach(() => t.close());

  it('plans what is due, writes every due pack into the folder, one line per file, and lists packs', async () => {
    const dir = path.join(t.dir, 'print', 'today');
    const first = await runCli('server/delivery/cli.ts', ['--packs', dir], env);
    // Nothing is due yet (fewer than N, younger than T): the folder is made, and stays empty.
    expect(first.stderr).toContain('deliver: made 0 hand-in packs due (0 signatures, 0 letters)');
    expect(fs.readdirSync(dir)).toEqual([]);

    const run = await runCli('server/delivery/cli.ts', ['--now', '--packs', dir], env);
    expect(run.stderr).toContain('deliver: made 2 hand-in packs due (2 signatures, 1 letter)');
    const packs = await t.services.packs.list();
    const csvs = packs.map((p) => path.join(dir, `pack-${slug}-${p.country.toLowerCase()}-${p.id}.csv`));
    const pdfs = csvs.map((f) => f.replace(/\.csv$/, '.pdf'));
    const files = pdfInBuild ? [...csvs, ...pdfs] : csvs;
    expect(run.stdout.trim().split('\n').sort()).toEqual(files.sort());
    expect(fs.readdirSync(dir).sort()).toEqual(files.map((f) => path.basename(f)).sort());
    const german = fs.readFileSync(
      csvs.find((f) => f.includes('-de-'))!,
      'utf8',
    );
    expect(german).toContain('Gerda Müller');
    expect(german).not.toContain('Jan Kowalski');
    const stored = await t.services.packs.find(packs.find((p) => p.country === 'DE')!.id);
    expect(stored!.csvSha256).toBe(crypto.createHash('sha256').update(german).digest('hex'));
    if (pdfInBuild) {
      expect(run.code).toBe(0);
      for (const f of pdfs) expect(fs.readFileSync(f).subarray(0, 5).toString()).toBe('%PDF-');
    } else {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('the PDF renderer is not part of this build: writing the CSVs only');
    }
    expect(run.stderr).toContain(`deliver: wrote 2 packs into ${dir}`);
    // Names inside: readable by their owner only.
    for (const f of [...csvs, ...pdfs]) expect(fs.statSync(f).mode & 0o777).toBe(0o600);

    const status = await runCli('server/delivery/cli.ts', ['--status'], env);
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toMatch(/^batch +target +country +petition +channel +signatures +letters +state/);
    expect(lines.find((l) => / PL .* post +1 +1 +due /.test(l))).toBeDefined();
    expect(lines.find((l) => / DE .* post +1 +0 +due /.test(l))).toBeDefined();
    expect(lines.find((l) => / IT .* email +1 +0 +queued /.test(l))).toBeDefined();

    // Recorded, a pack shows its day and is no longer written out.
    const pl = packs.find((p) => p.country === 'PL')!;
    await t.services.packs.record(
      pl.id,
      { handedInAt: Date.UTC(2026, 0, 5), how: 'post', reference: null, note: null },
      null,
    );
    const after = await runCli('server/delivery/cli.ts', ['--status'], env);
    expect(after.stdout).toMatch(/ PL .* post +1 +1 +sent .*2026-01-05/);
    const other = path.join(t.dir, 'print', 'again');
    const again = await runCli('server/delivery/cli.ts', ['--packs', other], env);
    expect(fs.readdirSync(other).some((f) => f.includes('-pl-'))).toBe(false);
    expect(again.stderr).toContain('wrote 1 pack into');

    const bad = await runCli('server/delivery/cli.ts', ['--packs'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--packs needs the folder');
    // Six runs of the command, each a process of its own: more than the default 20 s on a busy machine.
  }, 90_000);
});
