/**
 * npm run bench:export
 *
 * 1,000,000 validated signatures exported three ways from the same SQLite file, in the same run:
 *   - the console's HTTP export (the real server, built and started in a child process, logged in),
 *   - the command line (`npm run export`, compiled),
 *   - the baseline: the sqlite3 shell in CSV mode running the very same SELECT.
 * Each output is read through a pipe and counted, not written to disk. The server's memory is read
 * from /proc/<pid>/status: VmRSS sampled during the export, and VmHWM (its peak since it started).
 * Ends with `ratio: <HTTP seconds ÷ sqlite3 seconds>`. Target: ≤ 2.5, with the server under 150 MB.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { accountsRepository } from '../server/admin/accountsRepository';
import { createAccountsService } from '../server/admin/accountsService';
import { seed } from '../server/campaign/seed';
import { loadConfig } from '../server/config';
import { migrate, openDatabase } from '../server/db/database';
import { createSqliteStore } from '../server/db/sqliteStore';
import { exportQuery } from '../server/console/exports/exportRepository';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const slug = 'fund-defence-fairly';
const root = path.join(__dirname, '..');
const targetRatio = 2.5;
const targetMb = 150;
const email = 'bench@example.org';
const password = 'a benchmark password';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function ensureSqlite3(): void {
  try {
    execFileSync('sh', ['-c', 'command -v sqlite3'], { stdio: 'ignore' });
  } catch {
    log("sqlite3 is missing: installing Debian's sqlite3 …");
    execFileSync(
      'sh',
      ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y sqlite3'],
      { stdio: 'inherit' },
    );
  }
}

/** One transaction, one prepared insert: a million signatures in a few seconds. */
async function buildDatabase(file: string): Promise<number> {
  const db = openDatabase(file, 'NORMAL');
  migrate(db);
  await seed(createSqliteStore(db));
  const petitionId = db.prepare('SELECT id FROM petitions WHERE slug = ?').pluck().get(slug) as number;
  const countries = ['FR', 'DE', 'PL', 'GB', 'IT', 'ES', 'NL', 'BE', 'US', 'CA'];
  const names = ['Zoë Łukasz', 'Ada Lovelace', '李雷', 'Grace Hopper', 'Émile Zola', 'Ana-María Pérez'];
  const insert = db.prepare(
    `INSERT INTO signatures (petition_id, name, email, email_canonical, country_code, postcode, show_publicly,
       updates_opt_in, consent_version, consent_at, ip_hash, locale, state, created_at, validated_at)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'bench', ?, NULL, 'en', 'validated', ?, ?)`,
  );
  const start = Date.now() - 90 * 24 * 3600 * 1000;
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const address = `signer${i}@example.org`;
      const at = start + i * 7000;
      insert.run(
        petitionId,
        `${names[i % names.length]} ${i}`,
        address,
        address,
        countries[i % countries.length],
        i % 3 === 0 ? null : `${10000 + (i % 89999)}`,
        i % 2,
        at,
        at,
        at + 60_000,
      );
    }
    db.prepare('UPDATE petition_counts SET validated = ? WHERE petition_id = ?').run(rows, petitionId);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return petitionId;
}

async function createAdmin(file: string): Promise<void> {
  const db = openDatabase(file);
  const accounts = createAccountsService({
    repo: accountsRepository(createSqliteStore(db)),
    settings: loadConfig({ SECRET: 'x' }).admin,
  });
  const result = await accounts.create({ email, password, role: 'organiser' });
  db.close();
  if (!result.ok) throw new Error(`could not create the account: ${JSON.stringify(result.errors)}`);
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function requestText(port: number, method: string, urlPath: string, headers: Record<string, string>, body?: string) {
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads a stream to its end, counting bytes and lines, without keeping it. */
function count(stream: NodeJS.ReadableStream): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let lines = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    stream.on('end', () => resolve({ bytes, lines }));
    stream.on('error', reject);
  });
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

async function main(): Promise<void> {
  ensureSqlite3();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-export-'));
  const file = path.join(dir, 'bench.db');
  let server: ReturnType<typeof spawn> | undefined;
  try {
    log(`building a database of ${rows.toLocaleString('en')} signatures …`);
    const built = await timed(() => buildDatabase(file));
    await createAdmin(file);
    log(`  ${built.seconds.toFixed(1)} s, ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`);

    log('compiling the server (tsc -p tsconfig.build.json) …');
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );

    const port = await freePort();
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_PATH: file,
      DATA_DIR: dir,
      SECRET: crypto.randomBytes(32).toString('hex'),
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'warn',
      SMTP_URL: '',
      MAIL_CAPTURE: 'true',
    };
    server = spawn(process.execPath, [path.join(root, 'dist', 'server', 'main.js')], { env, stdio: 'inherit' });
    const pid = server.pid!;
    // Behind a TLS proxy in production: the session cookie is Secure, so the proxy says "https".
    const https = { 'X-Forwarded-Proto': 'https' };
    for (let i = 0; ; i++) {
      try {
        if ((await requestText(port, 'GET', '/admin/login', https)).status === 200) break;
      } catch {
        if (i > 100) throw new Error('the server did not start');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const loginPage = await requestText(port, 'GET', '/admin/login', https);
    const preCookie = String(loginPage.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)![1]!;
    const form = new URLSearchParams({ _csrf: csrf, email, password }).toString();
    const loggedIn = await requestText(
      port,
      'POST',
      '/admin/login',
      { ...https, Cookie: preCookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      form,
    );
    if (loggedIn.status !== 303) throw new Error(`login failed: ${loggedIn.status}`);
    const cookie = String(loggedIn.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    const before = memory(pid);

    log('HTTP export …');
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, memory(pid).rss)), 25);
    const httpRun = await timed(
      () =>
        new Promise<{ bytes: number; lines: number }>((resolve, reject) => {
          http
            .get(
              {
                host: '127.0.0.1',
                port,
                path: `/admin/exports/signatures.csv?petition=${slug}`,
                headers: { ...https, Cookie: cookie },
              },
              (res) => {
                if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
                count(res).then(resolve, reject);
              },
            )
            .on('error', reject);
        }),
    );
    clearInterval(sampler);
    const after = memory(pid);
    peakRss = Math.max(peakRss, after.rss);

    log('CLI export …');
    const cliRun = await timed(() => {
      const child = spawn(
        process.execPath,
        [path.join(root, 'dist', 'server', 'exports', 'cli.js'), '--petition', slug],
        { env, stdio: ['ignore', 'pipe', 'ignore'] },
      );
      return count(child.stdout);
    });

    log('sqlite3 -csv …');
    const petitionId = Number(
      execFileSync('sqlite3', [file, `SELECT id FROM petitions WHERE slug = '${slug}'`], { encoding: 'utf8' }).trim(),
    );
    const { sql, params } = exportQuery({ petitionId, state: 'validated', optedIn: false }, { formatInSql: true });
    const literal = sql.replace(/@(\w+)/g, (_, name: string) => {
      const value = params[name];
      return typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`;
    });
    const sqliteRun = await timed(() => {
      const child = spawn('sqlite3', ['-csv', '-header', file, literal], { stdio: ['ignore', 'pipe', 'inherit'] });
      return count(child.stdout);
    });

    const results = [
      { way: 'HTTP export (server)', run: httpRun },
      { way: 'CLI export', run: cliRun },
      { way: 'sqlite3 -csv (baseline)', run: sqliteRun },
    ];
    const expected = rows + 1; // and a header line
    console.log('');
    console.log(`signatures exported: ${rows.toLocaleString('en')} (petition ${slug}, state validated)`);
    console.log('');
    console.log('way                        seconds    rows        MB out   rows/s');
    for (const { way, run } of results) {
      console.log(
        `${way.padEnd(26)} ${run.seconds.toFixed(2).padStart(7)}  ${String(run.value.lines - 1).padStart(9)}  ${(run.value.bytes / 1e6).toFixed(1).padStart(8)}  ${Math.round(
          (run.value.lines - 1) / run.seconds,
        )
          .toLocaleString('en')
          .padStart(9)}`,
      );
    }
    console.log('');
    console.log(`server memory before the export (RSS): ${before.rss.toFixed(0)} MB`);
    console.log(`server memory during the export (peak RSS sampled every 25 ms): ${peakRss.toFixed(0)} MB`);
    console.log(`server memory peak since start (VmHWM): ${after.hwm.toFixed(0)} MB`);
    const sameRows = results.every((r) => r.run.value.lines === expected);
    console.log(`same number of rows in all three: ${sameRows ? 'yes' : 'NO'}`);
    const ratio = httpRun.seconds / sqliteRun.seconds;
    const peak = Math.max(after.hwm, peakRss);
    console.log(
      `target: ratio ≤ ${targetRatio} and peak ≤ ${targetMb} MB — ${ratio <= targetRatio && peak <= targetMb && sameRows ? 'met' : 'NOT met'}`,
    );
    console.log(`ratio: ${ratio.toFixed(2)}`);
    if (!sameRows) process.exitCode = 1;
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
