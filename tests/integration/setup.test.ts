import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { databaseName } from '../../server/db/open';
import { addValidatedSignaturesTo, setTargetEmailIn } from '../helpers/factories';
import { password } from '../helpers/admin';
import { root, runCli } from '../helpers/cli';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { freePort } from '../helpers/server';
import { createTestApp, sign, type TestApp } from '../helpers/testApp';
import { createSpawnedDatabase, databaseEnv, type SpawnedDatabase } from '../helpers/testStore';
import { until } from '../helpers/until';

describe('the .env file', () => {
  let t: TestApp;
  let smtp: SmtpSink | undefined;
  let folder: string;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-env-'));
  });
  afterEach(async () => {
    await t.close();
    await smtp?.close();
    smtp = undefined;
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('gives npm run deliver the server’s port for links, and never overrides the environment', async () => {
    smtp = await startSmtpSink();
    await setTargetEmailIn(t.services.store, 'IT', 'it@nato.example');
    await addValidatedSignaturesTo(t.services.store, 'stay-in-mine-and-cluster-bans', [
      { name: 'Ada', country: 'IT' },
      { name: 'Grace', country: 'IT' },
    ]);
    // The server runs on 4321 without BASE_URL; the file also says what the environment overrides.
    fs.writeFileSync(
      path.join(folder, '.env'),
      ['PORT=4321', 'DIGEST_SIZE=1000', `SMTP_URL=smtp://127.0.0.1:1`, 'DATABASE_PATH=/nonexistent/x.db', ''].join(
        '\n',
      ),
    );
    const run = await runCli(
      'server/delivery/cli.ts',
      [],
      {
        NODE_ENV: 'test',
        ...databaseEnv(t.services.config),
        DATA_DIR: t.dir,
        SECRET: t.services.config.secret,
        SMTP_URL: smtp.url,
        DIGEST_SIZE: '2',
      },
      { cwd: folder },
    );
    expect(run.stderr).toContain('batched 2 signatures into 1 digest');
    expect(run.code).toBe(0);
    const [digest] = await smtp.waitFor(1);
    expect(digest!.to).toMatchObject({ text: 'it@nato.example' });
    expect(digest!.text).toContain('http://localhost:4321/petitions/stay-in-mine-and-cluster-bans');
    expect(digest!.text).not.toContain('localhost:3000');
  });

  it('gives npm run admin:create the database to create the account in', async () => {
    const database = Object.entries(databaseEnv(t.services.config))
      .map(([name, value]) => `${name}=${value}\n`)
      .join('');
    fs.writeFileSync(
      path.join(folder, '.env'),
      `# as copied from .env.example\n${database}SECRET="${t.services.config.secret}"\n`,
    );
    const run = await runCli(
      'server/admin/cli.ts',
      ['--email', 'env@example.org'],
      { NODE_ENV: 'test', DATA_DIR: t.dir },
      { cwd: folder, stdin: `${password}\n` },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`Created the admin account env@example.org in ${databaseName(t.services.config)}`);
    expect((await t.services.admin.accounts.list()).map((a) => a.email)).toContain('env@example.org');
  });
});

describe('npm start with .env copied from .env.example', () => {
  let folder: string;
  let smtp: SmtpSink;
  const stops: Array<() => Promise<unknown>> = [];
  let database: SpawnedDatabase;
  beforeEach(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-start-'));
    fs.copyFileSync(path.join(root, '.env.example'), path.join(folder, '.env'));
    smtp = await startSmtpSink();
    database = await createSpawnedDatabase(folder, 'undersigned.db');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await database.drop();
    await smtp.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  /** server/main.ts in its own process, started in the folder holding the .env; resolves once it listens. */
  async function start(env: Record<string, string>) {
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, path.join(root, 'server', 'main.ts')],
      {
        cwd: folder,
        env: {
          PATH: process.env.PATH,
          ...database.env,
          DATA_DIR: folder,
          SMTP_URL: smtp.url,
          ...env,
        },
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    stops.push(() => (child.kill('SIGTERM'), exited));
    await until(() => output.includes('listening on'), 'the server to listen', { timeoutMs: 30_000, everyMs: 50 });
    return () => output.split('\n').find((line) => line.includes('listening on'))!;
  }

  it('listens on PORT, says where, and links to it in mail', async () => {
    const port = await freePort();
    const listening = await start({ PORT: String(port) }); // as in `PORT=4102 npm start`
    expect(listening()).toContain(`Undersigned listening on http://localhost:${port} (database`);
    expect(listening()).not.toContain(':3000');
    const res = await sign(request.agent(`http://127.0.0.1:${port}`), 'fund-defence-fairly');
    expect(res.status).toBe(303);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.text).toContain(`http://localhost:${port}/signatures/`);
    expect(mail!.text).not.toContain('localhost:3000');
  });

  it('says where links in mail point when BASE_URL names another address, and not when it is where it listens', async () => {
    const port = await freePort();
    const elsewhere = await start({ HOST: '127.0.0.1', PORT: String(port), BASE_URL: 'https://sign.example' });
    expect(elsewhere()).toContain(
      `Undersigned listening on http://127.0.0.1:${port}; links in mail point to https://sign.example`,
    );
    const other = await freePort();
    const same = await start({ HOST: '127.0.0.1', PORT: String(other), BASE_URL: `http://127.0.0.1:${other}` });
    expect(same()).toContain(`Undersigned listening on http://127.0.0.1:${other} (database`);
  });
});

describe('npm run admin:create, as the README shows it', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ smtp: false });
  });
  afterEach(() => t.close());

  const env = () => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    ...databaseEnv(t.services.config),
    DATA_DIR: t.dir,
    SECRET: t.services.config.secret,
  });

  it('creates the account when the scripted example is pasted into a shell', async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const example = /From a script[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(example).toContain('npm run admin:create');
    const run = spawnSync('bash', ['-c', example], { cwd: root, env: env(), input: `${password}\n`, encoding: 'utf8' });
    expect(run.stdout).toContain('Created the admin account you@example.org');
    expect(run.status).toBe(0);
    expect((await t.services.admin.accounts.list()).map((a) => a.email)).toContain('you@example.org');
  });

  it('says so when nothing was piped in, instead of calling the password too short', async () => {
    const run = spawnSync(
      'bash',
      ['-c', `printf '%s\\n' "$PASSWORD" | npm run -s admin:create -- --email nobody@example.org`],
      { cwd: root, env: env(), encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('No password on standard input');
    expect(await t.services.admin.accounts.list()).toHaveLength(0);
  });
});
