#!/usr/bin/env node
// No Docker engine runs on our machines, so this runs deploy/Dockerfile's own steps on a clean
// checkout: each stage in a folder of its own (FROM, WORKDIR, COPY [--from], ENV, RUN), then starts
// the final stage's CMD as its USER would, with its ENV, and runs its HEALTHCHECK, /readyz and a
// page against it. It also checks the systemd units name files the build produces.
// Usage: node .ci/check-deploy.mjs   (exits non-zero, saying why, when a step fails)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-deploy-'));
const context = path.join(work, 'context');
const log = (line) => console.log(`check-deploy: ${line}`);
function fail(message) {
  console.error(`check-deploy: FAILED: ${message}`);
  process.exit(1);
}

// A clean checkout of what is committed: nothing from this working tree that git does not track.
execFileSync('git', ['clone', '--quiet', '--no-local', top, context]);

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function instructions(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = [];
  let current = '';
  for (const raw of lines) {
    if (!current && (/^\s*#/.test(raw) || !raw.trim())) continue;
    current += raw.replace(/\\$/, ' ');
    if (raw.endsWith('\\')) continue;
    const [, op, rest] = /^\s*(\w+)\s+(.*)$/.exec(current) ?? [];
    if (op) out.push({ op: op.toUpperCase(), args: rest.trim() });
    current = '';
  }
  return out;
}

const args = {};
const stages = [];
let stage;
for (const { op, args: rest } of instructions(path.join(context, 'deploy', 'Dockerfile'))) {
  const expand = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => stage?.env[a ?? b] ?? args[a ?? b] ?? '');
  switch (op) {
    case 'ARG': {
      const [name, value = ''] = rest.split('=');
      args[name] = value;
      break;
    }
    case 'FROM': {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(expand(rest));
      const parent = stages.find((s) => s.name === image);
      const dir = path.join(work, `stage-${stages.length}`);
      if (parent) fs.cpSync(parent.dir, dir, { recursive: true });
      else fs.mkdirSync(dir);
      stage = {
        name: name ?? `stage-${stages.length}`,
        dir,
        env: { ...(parent?.env ?? {}) },
        cmd: undefined,
        healthcheck: undefined,
        user: 'root',
      };
      stages.push(stage);
      log(`stage ${stage.name} (${image})`);
      break;
    }
    case 'WORKDIR':
      if (rest !== '/app') fail(`WORKDIR ${rest}: this check maps only /app`);
      break;
    case 'ENV':
      for (const [, k, v] of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[k] = v;
      break;
    case 'COPY': {
      const from = /^--from=(\S+)\s+/.exec(rest);
      const parts = rest.replace(/^--from=\S+\s+/, '').split(/\s+/);
      const dest = parts.pop();
      const source = from ? stages.find((s) => s.name === from[1])?.dir : context;
      if (!source) fail(`COPY --from=${from[1]}: no such stage`);
      const fromApp = (p) => (from ? path.join(source, p.replace(/^\/app\/?/, '')) : path.join(source, p));
      for (const p of parts) {
        const src = fromApp(p);
        if (!fs.existsSync(src)) fail(`COPY ${p}: not in the ${from ? `stage ${from[1]}` : 'checkout'}`);
        const target =
          dest.endsWith('/') || parts.length > 1
            ? path.join(stage.dir, dest, path.basename(p))
            : path.join(stage.dir, dest);
        fs.cpSync(src, target, { recursive: true });
      }
      break;
    }
    case 'RUN': {
      const command = expand(rest);
      log(`RUN ${command}`);
      // System packages: this machine is Debian too. Install what is missing, and leave the
      // machine's package lists alone (the image's step deletes them to stay small).
      if (/\bapt-get\b/.test(command)) {
        const wanted = /apt-get install\s+(?:-\S+\s+)*([^&;]+)/.exec(command)?.[1].trim().split(/\s+/) ?? [];
        const missing = wanted.filter((name) => {
          try {
            execFileSync('dpkg', ['-s', name], { stdio: 'ignore' });
            return false;
          } catch {
            return true;
          }
        });
        if (missing.length)
          execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit' });
        break;
      }
      const shell = command.replace(/\/data\b/g, path.join(stage.dir, 'data')).replace(/chown node:node \S+/g, 'true');
      execFileSync('bash', ['-euo', 'pipefail', '-c', shell], {
        cwd: stage.dir,
        stdio: 'inherit',
        env: { ...process.env, ...stage.env, DEBIAN_FRONTEND: 'noninteractive', NODE_ENV: stage.env.NODE_ENV ?? '' },
      });
      break;
    }
    case 'USER':
      stage.user = rest;
      break;
    case 'CMD':
      stage.cmd = JSON.parse(rest);
      break;
    case 'HEALTHCHECK':
      stage.healthcheck = JSON.parse(rest.replace(/^(--\S+\s+)*CMD\s+/, ''));
      break;
    case 'VOLUME':
    case 'EXPOSE':
    case 'LABEL':
      break;
    default:
      fail(`${op}: this check does not know that instruction`);
  }
}

const final = stages.at(-1);
if (!final.cmd || !final.healthcheck) fail('the final stage needs a CMD and a HEALTHCHECK');
if (final.user === 'root') fail('the final stage must run as an unprivileged USER');
for (const dev of ['jest', 'eslint', 'tsx']) {
  if (fs.existsSync(path.join(final.dir, 'node_modules', dev)))
    fail(`a development dependency (${dev}) reached the final stage`);
}

for (const unit of ['undersigned-web.service', 'undersigned-worker.service']) {
  const text = fs.readFileSync(path.join(context, 'deploy', unit), 'utf8');
  const exec = /^ExecStart=\S+ (\S+)/m.exec(text)?.[1];
  if (!exec || !fs.existsSync(path.join(final.dir, exec)))
    fail(`${unit}: ExecStart names ${exec}, which the build does not produce`);
}

// The compose file: parsed as Docker Compose would (YAML with merge keys), and what it names exists.
{
  const file = path.join(context, 'deploy', 'compose.yaml');
  let compose;
  try {
    compose = YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true, strict: true, prettyErrors: true });
  } catch (error) {
    fail(`deploy/compose.yaml does not parse: ${error.message}`);
  }
  const services = compose?.services ?? {};
  for (const name of ['web', 'worker', 'postgres', 'mailpit'])
    if (!services[name]) fail(`deploy/compose.yaml has no ${name} service`);
  const build = services.web.build;
  if (!build || !fs.existsSync(path.join(context, 'deploy', build.context, build.dockerfile))) {
    fail('deploy/compose.yaml: the web service must build deploy/Dockerfile from the repository');
  }
  for (const name of ['web', 'worker']) {
    const env = services[name].environment ?? {};
    for (const key of ['DATABASE_URL', 'SECRET', 'BASE_URL', 'SMTP_URL', 'NODE_ENV']) {
      if (!env[key]) fail(`deploy/compose.yaml: ${name} does not set ${key}`);
    }
    if (!/@postgres:5432\//.test(env.DATABASE_URL))
      fail(`deploy/compose.yaml: ${name}'s DATABASE_URL must name the postgres service`);
  }
  const command = services.worker.command;
  if (!Array.isArray(command) || !fs.existsSync(path.join(final.dir, command[1] ?? ''))) {
    fail(`deploy/compose.yaml: the worker runs ${JSON.stringify(command)}, which the build does not produce`);
  }
  const published = (services.web.ports ?? []).map((p) => String(p).split(':').at(-1));
  if (!published.includes(final.env.PORT))
    fail(`deploy/compose.yaml: web must publish the image's PORT ${final.env.PORT}`);
  log('deploy/compose.yaml parses; its services, build and commands exist');
}

// The nginx site: Debian's nginx must accept it as written, its certificate paths and ports swapped
// for a throwaway certificate and loopback ports (nginx -t checks the certificate files exist).
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-nginx-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const site = fs
      .readFileSync(path.join(context, 'deploy', 'nginx.conf'), 'utf8')
      .replace(/\/etc\/letsencrypt\/live\/[^;]*fullchain\.pem/g, path.join(dir, 'cert.pem'))
      .replace(/\/etc\/letsencrypt\/live\/[^;]*privkey\.pem/g, path.join(dir, 'key.pem'))
      .replace(/\/var\/cache\/nginx\/undersigned/g, path.join(dir, 'cache'))
      .replace(/listen \[::\]:\d+[^;]*;/g, '')
      .replace(/listen (\d+)/g, (_, p) => `listen 127.0.0.1:${Number(p) + 20000}`);
    fs.writeFileSync(path.join(dir, 'site.conf'), site);
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `${t}_temp_path ${path.join(dir, t)};`)
      .join(' ');
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      `pid ${path.join(dir, 'nginx.pid')}; error_log ${path.join(dir, 'error.log')};\nevents {}\nhttp { access_log off; ${temp} include ${path.join(dir, 'site.conf')}; }\n`,
    );
    execFileSync(
      fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx',
      ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')],
      { stdio: 'inherit' },
    );
    log('deploy/nginx.conf passes nginx -t');
  } catch (error) {
    fail(`deploy/nginx.conf: ${error.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const port = await new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-deploy-data-'));
const env = {
  PATH: process.env.PATH,
  ...final.env,
  PORT: String(port),
  HOST: '127.0.0.1',
  DATA_DIR: data,
  DATABASE_PATH: path.join(data, 'undersigned.db'),
  BASE_URL: `http://127.0.0.1:${port}`,
  SECRET: 'a-deploy-check-secret-that-is-long-enough',
  MAIL_CAPTURE: 'true',
  LOG_LEVEL: 'warn',
};
const [bin, ...rest] = final.cmd;
const server = spawn(bin === 'node' ? process.execPath : bin, rest, {
  cwd: final.dir,
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
const stop = () => server.kill('SIGTERM');
process.on('exit', stop);
try {
  let healthy = false;
  for (let i = 0; i < 60 && !healthy; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (server.exitCode !== null) fail(`the server exited with ${server.exitCode}`);
    const [hbin, ...hargs] = final.healthcheck;
    try {
      execFileSync(hbin === 'node' ? process.execPath : hbin, hargs, { env, stdio: 'ignore' });
      healthy = true;
    } catch {
      // not up yet
    }
  }
  if (!healthy) fail('the HEALTHCHECK never passed');
  log('HEALTHCHECK passes');
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  if (ready.status !== 200) fail(`/readyz answered ${ready.status}: ${await ready.text()}`);
  const home = await fetch(`http://127.0.0.1:${port}/`);
  const page = await home.text();
  if (home.status !== 200 || !page.includes('<html')) fail(`the home page answered ${home.status}`);
  log('/readyz and the home page answer 200 from the final stage, with production dependencies only');
} finally {
  stop();
  await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)));
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(data, { recursive: true, force: true });
}
log('ok');
