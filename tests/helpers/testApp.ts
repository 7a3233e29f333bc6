import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { Express } from 'express';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import type { RenderPackPdf } from '../../server/packs/packPdfRenderer';
import { createServices, type Services } from '../../server/services';
import { startSmtpSink, type SinkOptions, type SmtpSink } from './smtpSink';
import { createTestPostgresDatabase, postgresUrl, tracePostgres } from './testStore';

export const baseUrl = 'http://localhost:3000';

export interface TestApp {
  app: Express;
  services: Services;
  smtp: SmtpSink | undefined;
  dir: string;
  agent(): TestAgent;
  /** services.close(), once (close() does it too, unless done already). */
  closeServices(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole app on its own SQLite file in a temporary folder, sending to its own SMTP server on
 * 127.0.0.1 (or capturing mail to files when `smtp: false`).
 */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    /** false: capture mail to files; an object: how the SMTP sink behaves (a slow relay, say). */
    smtp?: boolean | SinkOptions;
    /** Hands each SQL statement the app runs to this (on either database). */
    traceSql?: (sql: string) => void;
    /** The clock of every service (signatures, letters, the outbox, delivery, the console), to let time pass. */
    clock?: () => number;
    /** The hand-in packs' PDF renderer, in place of server/packs/packPdf.ts. */
    renderPackPdf?: RenderPackPdf;
  } = {},
): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'undersigned-test-'));
  const smtp = options.smtp === false ? undefined : await startSmtpSink(options.smtp === true ? {} : options.smtp);
  // Under `npm run test:pg`, the app runs on a database of its own on the test PostgreSQL server.
  const pgDatabase = postgresUrl ? await createTestPostgresDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_PATH: path.join(dir, 'test.db'),
    ...(pgDatabase ? { DATABASE_URL: pgDatabase.url } : {}),
    DATA_DIR: dir,
    BASE_URL: baseUrl,
    SECRET: 'a-test-secret-that-is-long-enough-000000',
    OUTBOX_BACKOFF_MS: '0',
    ...(smtp ? { SMTP_URL: smtp.url } : {}),
    ...options.env,
  });
  const trace = options.traceSql;
  const untrace = pgDatabase && trace ? tracePostgres(pgDatabase.name, trace) : undefined;
  const db = pgDatabase
    ? undefined
    : openDatabase(config.databasePath, config.synchronous, trace ? { verbose: (sql) => trace(String(sql)) } : {});
  const services = await createServices(config, createLogger('silent'), {
    db,
    clock: options.clock,
    renderPackPdf: options.renderPackPdf,
  });
  const app = createApp(services);
  let servicesClosed: Promise<void> | undefined;
  const closeServices = () => (servicesClosed ??= services.close());
  return {
    app,
    services,
    smtp,
    dir,
    agent: () => request.agent(app),
    closeServices,
    async close() {
      await closeServices();
      untrace?.();
      await smtp?.close();
      await pgDatabase?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A second runner on a test app's database, as `npm run deliver` beside the server: its own outbox
 * sender, sending through `smtpUrl`, reading the time from `clock`. Close it before the app.
 */
export async function anotherRunner(t: TestApp, options: { smtpUrl: string; clock?: () => number }): Promise<Services> {
  const config = { ...t.services.config, smtpUrl: options.smtpUrl };
  return await createServices(config, createLogger('silent'), { clock: options.clock });
}

/** The token of a console form (the console keeps synchroniser tokens; public forms have none). */
export function csrfFrom(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}

/** What a browser adds to a form it posts from one of our own pages (checked by the app, not a token). */
/** Where signing leads: the "check your email" page, with the masked address signed in its query. */
export function checkEmailLocation(slug: string): RegExp {
  return new RegExp(`^/petitions/${slug}/check-email\\?to=[\\w-]+\\.[0-9a-z]+\\.[\\w-]{27}$`);
}

export const sameOrigin = { 'Sec-Fetch-Site': 'same-origin', Origin: baseUrl };

export interface SignFields {
  name?: string;
  email?: string;
  country?: string;
  postcode?: string;
  showPublicly?: string;
  updates?: string;
  website?: string;
  [extra: string]: string | undefined;
}

export const aSigner: SignFields = { name: 'Ada Lovelace', email: 'ada@example.org', country: 'GB', postcode: 'N1' };

/** Opens the petition page and posts the sign form, as a browser would. */
export async function sign(agent: TestAgent, slug: string, fields: SignFields = aSigner) {
  await agent.get(`/petitions/${slug}`).expect(200);
  return agent.post(`/petitions/${slug}/signatures`).set(sameOrigin).type('form').send(fields);
}

/** The confirmation link in a mail, as a path on this app. */
export function confirmPath(mailText: string | undefined): string {
  const match = /http:\/\/localhost:3000(\/signatures\/[^\s]+\/confirm)/.exec(mailText ?? '');
  if (!match) throw new Error(`no confirmation link in: ${mailText}`);
  return match[1]!;
}

/** Opens the link from the mail, then presses Confirm. */
export async function confirm(agent: TestAgent, linkPath: string) {
  await agent.get(linkPath).expect(200);
  return agent.post(linkPath).set(sameOrigin).type('form').send({});
}

export async function countOn(agent: TestAgent, slug: string): Promise<number> {
  const res = await agent.get(`/petitions/${slug}.json`).expect(200);
  return (res.body as { count: number }).count;
}
