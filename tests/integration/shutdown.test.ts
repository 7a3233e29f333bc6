import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../server/db/database';
import type { Services } from '../../server/services';
import { createTestApp, type TestApp } from '../helpers/testApp';
import { until } from '../helpers/until';

const root = path.join(__dirname, '..', '..');
const slug = 'fund-defence-fairly';

describe('SIGTERM: the services close', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.smtp?.close();
    fs.rmSync(t.dir, { recursive: true, force: true });
  });

  it('commits, and answers, a signature still waiting for the group commit', async () => {
    t = await createTestApp();
    const petition = t.services.petitions.page(slug, 'en')!.petition;
    const values = {
      name: 'Grace Hopper',
      email: 'grace@example.org',
      country: 'US',
      postcode: '',
      showPublicly: true,
      updates: false,
    };
    const signing = t.services.signatures.sign(petition, values, '203.0.113.7', 'en');
    await t.services.close();
    await expect(signing).resolves.toBeUndefined();
    const db = openDatabase(t.services.config.databasePath);
    try {
      expect(db.prepare("SELECT state FROM signatures WHERE email = 'grace@example.org'").pluck().all()).toEqual([
        'pending',
      ]);
      expect(db.prepare('SELECT recipient, state FROM outbox').all()).toEqual([
        { recipient: 'grace@example.org', state: 'queued' },
      ]);
    } finally {
      db.close();
    }
  });
});

/** `npm run worker` on the test app's database and relay. */
function spawnWorker(services: Services, smtpUrl: string, dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'worker.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_PATH: services.config.databasePath,
      DATA_DIR: dir,
      SMTP_URL: smtpUrl,
      SECRET: services.config.secret,
      BASE_URL: 'http://localhost:3000',
      OUTBOX_POLL_MS: '100',
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('SIGTERM: the worker stops gracefully', () => {
  let t: TestApp;
  let release: (() => void) | undefined;
  let worker: ReturnType<typeof spawnWorker> | undefined;
  afterEach(async () => {
    if (worker?.child.exitCode === null && !worker.child.signalCode) worker.child.kill('SIGKILL');
    release?.();
    await t.close();
  });

  /**
   * 200 mails queued; the worker claims two batches of 50 and hands 10 to its transport: one on each
   * of its 5 connections to the relay (which holds its answers), one waiting for each.
   */
  async function workerWithMailInHand() {
    t = await createTestApp({ env: { DELIVERY_IN_SERVER: 'false' } });
    t.services.db.transaction(() => {
      for (let i = 0; i < 200; i++) {
        t.services.outbox.enqueue({
          kind: 'test',
          to: `person${i}@example.org`,
          template: 'already-signed',
          locale: 'en',
          params: { name: `Person ${i}`, petitionTitle: 'A petition', petitionUrl: 'http://localhost/p' },
        });
      }
    })();
    release = t.smtp!.hold();
    worker = spawnWorker(t.services, t.smtp!.url, t.dir);
    await t.smtp!.waitForReceived(5, 30_000);
    const state = (s: string) => t.services.db.prepare('SELECT count(*) FROM outbox WHERE state = ?').pluck().get(s);
    await until(() => state('sending') === 100, 'two batches claimed', 10_000);
    return worker;
  }

  const queued = () => t.services.db.prepare("SELECT count(*) FROM outbox WHERE state = 'queued'").pluck().get();
  const rows = () =>
    t.services.db
      .prepare(
        `SELECT state, attempts, lease_until IS NOT NULL AS leased, count(*) AS n FROM outbox
         GROUP BY 1, 2, 3 ORDER BY 1`,
      )
      .all();

  it('records the mail in hand, gives back the rest of what it claimed, and exits 0', async () => {
    const running = await workerWithMailInHand();
    running.child.kill('SIGTERM');
    // What the transport had not taken goes back at once, while the relay still holds its answers.
    await until(() => queued() === 190, 'the claimed mail not yet sent to be back in the queue');
    expect(rows()).toEqual([
      { state: 'queued', attempts: 0, leased: 0, n: 190 },
      { state: 'sending', attempts: 1, leased: 1, n: 10 },
    ]);

    release!();
    expect(await running.exited).toBe(0);
    expect(t.smtp!.mails).toHaveLength(10); // the mail in hand, and nothing more
    expect(rows()).toEqual([
      { state: 'queued', attempts: 0, leased: 0, n: 190 },
      { state: 'sent', attempts: 1, leased: 0, n: 10 },
    ]);
    const sentIds = t.services.db.prepare("SELECT message_id FROM outbox WHERE state = 'sent'").pluck().all();
    expect(new Set(sentIds)).toEqual(new Set(t.smtp!.mails.map((m) => m.messageId)));
    expect(running.output()).toContain('the mail in hand is recorded');
  }, 60_000);
});
