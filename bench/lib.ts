/** What bench/sign.ts and bench/page.ts share: the load generator, the servers, the SMTP sink, the output. */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Express } from 'express';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { createServices, type Services } from '../server/services';

export const slug = 'fund-defence-fairly';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent with every request; each `{n}` becomes a number unique to the request within the process. */
  body?: string;
  /** Run for this long… */
  seconds?: number;
  /** …or send exactly this many requests and wait for every answer. */
  amount?: number;
  /**
   * Send from many source addresses in 127.0.0.0/8, this many requests from each (on one connection),
   * so the server sees many clients rather than one; otherwise autocannon, from 127.0.0.1.
   */
  perAddress?: number;
}

export interface LoadResult {
  responses: number;
  rps: number;
  p99: number;
  /** Responses per status code. */
  status: Record<string, number>;
  /** Responses that are neither 2xx nor 3xx, plus connection errors and timeouts. */
  other: number;
  /** Bytes on the wire per response, headers included. */
  bytes: number;
  /** Source addresses used, when sending from many. */
  addresses?: number;
}

// The worker is TypeScript: registering tsx's CommonJS hook inside it lets it load loadWorker.ts.
const workerSource = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();
require(${JSON.stringify(path.join(__dirname, 'loadWorker.ts'))});`;

/**
 * Runs autocannon on a worker thread: on 2 cores, a load generator on the servers' own event loop
 * would take its time from them and flatten every ratio towards 1.
 */
export function load(options: LoadOptions): Promise<LoadResult> {
  const worker = new Worker(workerSource, { eval: true, workerData: options });
  return new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

/**
 * ~2 s of the same load before measuring, so JIT, caches and pools are warm. Returns the rate of
 * the second half only: the first second runs cold code and would undersize a run based on it.
 */
export async function warmUp(options: LoadOptions): Promise<LoadResult> {
  await load({ ...options, seconds: 1 });
  const warm = await load({ ...options, seconds: 1 });
  if (warm.rps === 0) throw new Error(`no answers from ${options.url} during the warm-up`);
  return warm;
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Express): Promise<Listening> {
  const server = http.createServer(app);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive sockets (fetch keeps one) would otherwise hold close() for seconds.
            server.closeAllConnections();
          }),
      });
    });
  });
}

export interface SmtpSink {
  url: string;
  port: number;
  /** Messages and bytes received so far. */
  stats(): Promise<{ messages: number; bytes: number }>;
  /** How many times each Message-ID was received so far, and how many messages carried none. */
  messageIds(): Promise<{ count(id: string): number; all: Map<string, number>; missing: number }>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * An SMTP server that accepts every message and throws it away, in its own process (see
 * smtpSinkProcess.ts): the app's real mail path, no files, and no CPU taken from what is measured.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const child = fork(path.join(__dirname, 'smtpSinkProcess.ts'), [], { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', resolve as (m: unknown) => void);
    child.once('error', reject);
  });
  /** Asks the sink for `what` and resolves with its answer. */
  const ask = <T>(what: 'stats' | 'ids') =>
    new Promise<T>((resolve) => {
      const listener = (m: Record<string, unknown>) => {
        if (!(what in m)) return;
        child.off('message', listener);
        resolve(m[what] as T);
      };
      child.on('message', listener);
      child.send(what);
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    stats: () => ask<{ messages: number; bytes: number }>('stats'),
    messageIds: async () => {
      const { entries, missing } = await ask<{ entries: Array<[string, number]>; missing: number }>('ids');
      const all = new Map(entries);
      return { count: (id: string) => all.get(id) ?? 0, all, missing };
    },
    reset: () => child.send('reset'),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

export interface RunningApp extends Listening {
  services: Services;
}

/**
 * The whole app, as server/main.ts builds it, on a database in `dir`, mailing `smtpUrl`. With
 * LOG_LEVEL set in `env`, it logs as production does, to `logFile` in place of stdout (which a
 * production server hands to a log collector; here it would mix with the figures).
 */
export async function startApp(
  dir: string,
  smtpUrl: string,
  env: Record<string, string> = {},
  logFile = path.join(dir, 'app.log'),
): Promise<RunningApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SECRET: 'a-bench-secret-that-is-long-enough-0000000',
    BASE_URL: 'http://bench.localhost',
    DATABASE_PATH: path.join(dir, 'app.db'),
    DATA_DIR: dir,
    SMTP_URL: smtpUrl,
    ...env,
  });
  const services = await createServices(config, createLogger(config.logLevel, logFile));
  services.sender.start();
  const server = await listen(createApp(services));
  return {
    ...server,
    services,
    async close() {
      await server.close();
      await services.close();
    },
  };
}

/** Prints rows as aligned columns, the first row being the header. */
export function printTable(rows: Array<Array<string | number>>): void {
  const cells = rows.map((row) => row.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}

export function verdict(label: string, met: boolean): string {
  return `${label}: ${met ? 'met' : 'NOT met'}`;
}
