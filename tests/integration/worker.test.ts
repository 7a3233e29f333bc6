import { spawn } from 'node:child_process';
import path from 'node:path';
import { addValidatedSignatures } from '../helpers/factories';
import { createTestApp, sign, type TestApp } from '../helpers/testApp';

const root = path.join(__dirname, '..', '..');
const slug = 'fund-defence-fairly';

/**
 * The web app here runs no background work (as with DELIVERY_IN_SERVER=false behind a separate
 * worker): whatever mail arrives was sent by `npm run worker`, a process of its own.
 */
describe('npm run worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { DELIVERY_IN_SERVER: 'false' } });
  });
  afterAll(async () => t.close());

  it('sends queued mail and the digests that fall due, and stops cleanly on SIGTERM', async () => {
    expect((await sign(t.agent(), slug)).status).toBe(303);
    addValidatedSignatures(t.services.db, slug, [{ name: 'Dante Alighieri', country: 'IT' }]);
    expect(t.smtp!.mails).toHaveLength(0);

    const worker = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'worker.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_PATH: t.services.config.databasePath,
        DATA_DIR: t.dir,
        SMTP_URL: t.smtp!.url,
        SECRET: t.services.config.secret,
        BASE_URL: 'http://localhost:3000',
        DELIVERY_IN_SERVER: 'false', // the worker schedules digests whatever the web processes are told
        DELIVERY_INTERVAL_MS: '100',
        DIGEST_SIZE: '1',
        OUTBOX_POLL_MS: '100',
      },
    });
    let stdout = '';
    worker.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('close', (code) => resolve(code)));
    try {
      const mails = await t.smtp!.waitFor(2, 15_000);
      const subjects = mails.map((m) => m.subject ?? '');
      expect(mails.find((m) => m.to && 'text' in m.to && m.to.text === 'ada@example.org')).toBeDefined();
      const digest = mails.find((m) => m.attachments.some((a) => a.contentType.startsWith('text/csv')));
      expect(digest?.attachments[0]!.content.toString('utf8')).toContain('Dante Alighieri');
      expect(subjects).toHaveLength(2);
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('worker stopping');
  });
});
