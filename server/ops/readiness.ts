import fs from 'node:fs';
import path from 'node:path';
import { appRoot } from '../config';
import type { MailTransport } from '../mail/mailer';
import type { OpsRepository } from './opsRepository';

export interface Readiness {
  ready: boolean;
  checks: { database: string; migrations: string; mail: string };
}

/** How long a relay's answer to `verify` is trusted before it is asked again. */
const MAIL_CHECK_MS = 60_000;

/**
 * What /readyz answers: the database answers, every migration this build ships is applied, and mail
 * can go out (the relay accepted our connection and credentials recently, or capture was chosen
 * explicitly). A load balancer sends traffic only to a ready process.
 */
export function createReadiness(deps: {
  repo: OpsRepository;
  transport: MailTransport;
  /** True when mail is captured to files on purpose (no SMTP_URL outside production, or MAIL_CAPTURE=true). */
  capture: boolean;
  migrationsDir?: string;
  clock?: () => number;
  /** Why writes cannot be answered as durable any more (Store.writeFailure). */
  writeFailure?: () => Error | undefined;
}) {
  const clock = deps.clock ?? Date.now;
  const dir = deps.migrationsDir ?? path.join(appRoot, 'db', 'migrations');
  const shipped = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f))
    .map((f) => Number(f.slice(0, 4)));
  let mail: { ok: boolean; detail: string; at: number } | undefined;

  async function mailCheck(): Promise<{ ok: boolean; detail: string }> {
    if (deps.capture) return { ok: true, detail: 'captured to files' };
    if (mail && clock() - mail.at < MAIL_CHECK_MS) return mail;
    try {
      await deps.transport.verify?.();
      mail = { ok: true, detail: 'relay verified', at: clock() };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      mail = { ok: false, detail: `relay not ready: ${e.code ?? e.message ?? 'unknown error'}`, at: clock() };
    }
    return mail;
  }

  return async function readiness(): Promise<Readiness> {
    let database = 'ok';
    let migrations = 'ok';
    try {
      if (!(await deps.repo.ping())) database = 'no answer';
      const applied = new Set(await deps.repo.appliedMigrations());
      const missing = shipped.filter((v) => !applied.has(v));
      if (missing.length) migrations = `not applied: ${missing.join(', ')}`;
    } catch (error) {
      database = `unreachable: ${(error as Error).message}`;
      migrations = 'unknown';
    }
    // The database answers reads, but no write will ever be answered again until a restart.
    const failed = deps.writeFailure?.();
    if (failed) database = `writes failing until restarted: ${failed.message}`;
    const m = await mailCheck();
    return {
      ready: database === 'ok' && migrations === 'ok' && m.ok,
      checks: { database, migrations, mail: m.detail },
    };
  };
}
