/**
 * Debian's nginx, started by a benchmark on loopback with deploy/nginx.conf's proxy and micro-cache
 * settings (TLS left out: it would cost both sides the same), in front of a running app, plus a
 * second server in the same nginx that serves a static file: the floor the proxied page is held to.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const nginxBinary = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningNginx {
  /** The app's page through the proxy and its micro-cache. */
  proxied(pathname: string): string;
  /** The same bytes as a static file. */
  staticUrl: string;
  close(): Promise<void>;
}

/** The site of deploy/nginx.conf, as a benchmark on loopback runs it: plain HTTP, temporary paths. */
export function benchSite(source: string, options: { dir: string; appPort: number; port: number }): string {
  return (
    source
      // The port-80 server only redirects to HTTPS.
      .replace(/server \{\s*listen 80;[\s\S]*?return 301[^}]*\}\n/, '')
      .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${options.port};`)
      .replace(/\s*listen \[::\]:\d+[^;]*;/g, '')
      .replace(/\s*ssl_[a-z_]+ [^;]*;/g, '')
      .replace(/\s*add_header Strict-Transport-Security[^;]*;/, '')
      .replace(/\/var\/cache\/nginx\/undersigned/g, path.join(options.dir, 'cache'))
      .replace(/server 127\.0\.0\.1:3000;/, `server 127.0.0.1:${options.appPort};`)
  );
}

export async function startNginx(options: { dir: string; appPort: number; staticBody: string }): Promise<RunningNginx> {
  const { dir } = options;
  fs.mkdirSync(path.join(dir, 'cache'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'static'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'static', 'page.html'), options.staticBody);
  // nginx's workers run as nobody when it is started as root: let them through the bench's own
  // temporary folder (made private), write the cache and read the file.
  fs.chmodSync(path.dirname(dir), 0o711);
  for (const sub of ['', 'cache', 'static']) fs.chmodSync(path.join(dir, sub), 0o777);
  fs.chmodSync(path.join(dir, 'static', 'page.html'), 0o644);
  const port = await freePort();
  const staticPort = await freePort();
  const site = benchSite(fs.readFileSync(path.join(__dirname, '..', 'deploy', 'nginx.conf'), 'utf8'), {
    dir,
    appPort: options.appPort,
    port,
  });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${path.join(dir, `${name}_temp`)};`)
    .join(' ');
  // The floor: the same nginx, the same worker, keep-alive, the page's bytes from a file.
  const staticServer = `server { listen 127.0.0.1:${staticPort}; location = /page { default_type "text/html; charset=utf-8"; alias ${path.join(dir, 'static', 'page.html')}; } }`;
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 1;\npid ${path.join(dir, 'nginx.pid')};\nerror_log ${path.join(dir, 'error.log')} warn;\n` +
      `events { worker_connections 1024; }\nhttp { access_log off; ${temp}\n${site}\n${staticServer}\n}\n`,
  );
  execFileSync(nginxBinary, ['-t', '-q', '-p', dir, '-c', conf], { stdio: 'inherit' });
  const child = spawn(nginxBinary, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
  // Ready once both ports answer.
  for (const p of [port, staticPort]) {
    for (let tries = 0; ; tries++) {
      const ok = await fetch(`http://127.0.0.1:${p}/healthz`).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (tries > 100) throw new Error(`nginx did not start on port ${p} (see ${path.join(dir, 'error.log')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    proxied: (pathname) => `http://127.0.0.1:${port}${pathname}`,
    staticUrl: `http://127.0.0.1:${staticPort}/page`,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}
