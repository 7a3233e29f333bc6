import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli';
import { addValidatedSignaturesTo, setTargetEmailIn } from '../helpers/factories';
import { setTargetPostIn } from '../helpers/packs';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { databaseEnv } from '../helpers/testStore';

const slug = 'fund-defence-fairly';

describe('the command-line tools count in words that agree', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let env: Record<string, string>;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    smtp = await startSmtpSink();
    env = {
      NODE_ENV: 'test',
      ...databaseEnv(t.services.config),
      DATA_DIR: t.dir,
      SECRET: t.services.config.secret,
      SMTP_URL: smtp.url,
      BASE_URL: 'http://localhost:3000',
    };
    // One signer whose delegation has an address, one whose delegation has none yet (neither an
    // email nor a postal address: otherwise a hand-in pack is made for it).
    await setTargetEmailIn(t.services.store, 'IT', 'it@nato.example');
    await setTargetEmailIn(t.services.store, 'DE', null);
    await setTargetPostIn(t.services.store, 'DE', { address: null });
    await addValidatedSignaturesTo(t.services.store, slug, [
      { name: 'Ada', country: 'IT' },
      { name: 'Grace', country: 'DE' },
    ]);
  });
  afterEach(async () => {
    await t.close();
    await smtp.close();
  });

  it('npm run deliver: "1 signature", "1 digest", "1 waits"', async () => {
    const pass = await runCli('server/delivery/cli.ts', ['--now'], env);
    expect(pass.stderr).toContain('deliver: batched 1 signature into 1 digest; 1 waits for a target address');
    expect(pass.code).toBe(0);

    const status = await runCli('server/delivery/cli.ts', ['--status'], env);
    expect(status.stdout).toMatch(/Waiting for an address:\n {2}DE {2}.+: 1 signature\n/);
    expect(status.stdout).not.toContain('1 signatures');

    const again = await runCli('server/delivery/cli.ts', ['--now'], env);
    expect(again.stderr).toContain('deliver: batched 0 signatures into 0 digests; 1 waits for a target address');
  });

  it('npm run export: "1 row"', async () => {
    const out = path.join(t.dir, 'one.csv');
    const run = await runCli(
      'server/console/exports/cli.ts',
      ['--petition', slug, '--country', 'IT', '--out', out],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('export: 1 of 1 row (100%)');
    expect(run.stderr).toContain(`export: 1 row written to ${out}`);
    expect(run.stderr).not.toMatch(/\b1 rows\b/);
    expect(fs.readFileSync(out, 'utf8')).toContain('Ada');
  });
});
