import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { databaseEnv } from './testStore';

export const root = path.join(__dirname, '..', '..');
const tsx = pathToFileURL(require.resolve('tsx')).href;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A command-line tool (`server/…/cli.ts`) as its own process, with only the environment given (and
 * PATH), started in `cwd` (the project folder unless said otherwise).
 */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; stdin?: string } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', tsx, path.join(root, script), ...args], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * The environment a tool run on the server gets: the test app's database (its SQLite file, or its
 * PostgreSQL URL under `npm run test:pg`), data folder and secret.
 */
export function appEnv(t: {
  dir: string;
  services: { config: { databasePath: string; databaseUrl: string | undefined; secret: string } };
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    ...databaseEnv(t.services.config),
    DATA_DIR: t.dir,
    SECRET: t.services.config.secret,
  };
}
