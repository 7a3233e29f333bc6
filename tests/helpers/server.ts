import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createServices, type Services } from '../../server/services';
import { until } from './until';

export interface RunningServer {
  url: string;
  services: Services;
  dir: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The real server, listening on 127.0.0.1 with its outbox sender running, on a fresh database. */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    BASE_URL: url,
    DATABASE_PATH: path.join(dir, 'e2e.db'),
    DATA_DIR: dir,
    SECRET: 'an-e2e-secret-that-is-long-enough-00000',
    OUTBOX_POLL_MS: '100',
    ...env,
  });
  const services = await createServices(config, createLogger('silent'));
  services.startBackground();
  const server: Server = createApp(services).listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url,
    services,
    dir,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await services.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote to stdout and stderr so far (its log). */
  output(): string;
  /** Resolves when it answers HTTP; rejects if it exits first. */
  ready: Promise<unknown>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real server (server/main.ts, which `npm start` runs once built) in a process of its own: node
 * with tsx's loader, not the tsx wrapper, so that a SIGKILL reaches the process that works. `env`
 * names its database, relay and settings.
 */
export function spawnServer(
  port: number,
  env: Record<string, string>,
  options: { processGroup?: boolean } = {},
): ServerProcess {
  const root = path.join(__dirname, '..', '..');
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'main.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), BASE_URL: url, ...env },
    // A process group of its own, to signal the server and its workers at once as systemd does.
    detached: options.processGroup ?? false,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const ready = until(
    async () => {
      if (gone) throw new Error(`the server exited before answering:\n${output}`);
      return fetch(`${url}/`).then(
        (res) => res.ok,
        () => false,
      );
    },
    'the server to answer',
    { timeoutMs: 30_000, everyMs: 50 },
  );
  return { url, child, output: () => output, ready, exited };
}

export interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote to stdout and stderr so far (its log). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm run worker` (server/worker.ts) in a process of its own, on the database and relay `env`
 * names: node with tsx's loader, not the tsx wrapper, so that a signal reaches the process that works.
 */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'worker.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', BASE_URL: 'http://localhost:3000', ...env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}
