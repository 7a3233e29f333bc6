import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { createServices, type Services } from '../../server/services';

export interface RunningServer {
  url: string;
  services: Services;
  dir: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
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
  const services = createServices(config, createLogger('silent'));
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
