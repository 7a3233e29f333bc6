/**
 * npm run bench:page — the real petition page (50 confirmed public signatures) against a bare Express
 * route rendering a precompiled Handlebars template of the same size, under the same load in the same
 * run. Last line: `ratio: <app req/s / bare req/s>`.
 */
import Handlebars from 'handlebars';
import express from 'express';
import { signToken } from '../server/security/tokens';
import {
  listen,
  load,
  printTable,
  slug,
  startApp,
  startSmtpSink,
  tempDir,
  verdict,
  warmUp,
  type LoadResult,
  type RunningApp,
} from './lib';

const measureSeconds = 8;
const firstNames = ['Ada', 'Björn', 'Chiara', 'Dorota', 'Elif', 'Femke', 'Gaspard', 'Hanna', 'Ioana', 'Jonas'];
const countries = ['FR', 'DE', 'GB', 'IT', 'ES', 'PL', 'NL', 'BE', 'PT', 'NO', 'RO', 'CZ'];
const csrfPattern = /name="_csrf" value="([^"]+)"/;

/** 50 public signatures, signed and confirmed through the services, so the page lists signers and countries. */
async function seed(app: RunningApp): Promise<void> {
  const { signatures, petitions, db, config, sender } = app.services;
  const petition = (await petitions.findPetition(slug, 'en'))!;
  for (let i = 0; i < 50; i++) {
    const values = {
      name: `${firstNames[i % firstNames.length]} Example`,
      email: `seed${i}@example.org`,
      country: countries[i % countries.length]!,
      postcode: '',
      showPublicly: true,
      updates: i % 2 === 0,
    };
    // One address each, as real signers would have: a single one would trip the rate limit.
    await signatures.sign(petition, values, `203.0.113.${i + 1}`, 'en');
  }
  const pending = db
    .prepare<[], { id: number; createdAt: number }>(
      "SELECT id, created_at AS createdAt FROM signatures WHERE state = 'pending'",
    )
    .all();
  for (const { id, createdAt } of pending) {
    if ((await signatures.confirm(signToken(config.secret, 'confirm', id, createdAt))).status !== 'validated') {
      throw new Error(`signature ${id} was not confirmed`);
    }
  }
  // The confirmation mails go out now, not during the measurement.
  await sender.idle();
}

/**
 * The floor: Express 5 sending a page rendered by a Handlebars template compiled once. The template
 * is the app's own page, with its CSRF token and title turned back into variables, so both answers
 * carry the same bytes.
 */
async function startBare(html: string, title: string) {
  const csrfToken = csrfPattern.exec(html)![1]!;
  const source = html
    .replaceAll('{{', '\\{{')
    .replace(`value="${csrfToken}"`, 'value="{{csrfToken}}"')
    .replaceAll(Handlebars.escapeExpression(title), '{{title}}');
  const template = Handlebars.create().compile(source);
  const app = express();
  app.get('/page', (_req, res) => {
    res.type('html').send(template({ csrfToken, title }));
  });
  return listen(app);
}

async function main(): Promise<void> {
  const dir = tempDir();
  const sink = await startSmtpSink();
  const closers: Array<() => Promise<void>> = [sink.close];
  try {
    const app = await startApp(dir.path, sink.url);
    closers.unshift(app.close);
    await seed(app);
    const appUrl = `${app.url}/petitions/${slug}`;
    const html = await (await fetch(appUrl)).text();
    const bare = await startBare(html, (await app.services.petitions.findPetition(slug, 'en'))!.title);
    closers.unshift(bare.close);
    const bareUrl = `${bare.url}/page`;
    const bareHtml = await (await fetch(bareUrl)).text();

    const measure = async (url: string) => {
      await warmUp({ url });
      return load({ url, seconds: measureSeconds });
    };
    const bareResult = await measure(bareUrl);
    const appResult = await measure(appUrl);

    console.log(`GET /petitions/${slug}, 50 connections, ${measureSeconds} s each after a 2 s warm-up`);
    console.log('app:  the real page with 50 confirmed public signatures (recent signers, country counts)');
    console.log('bare: Express 5 + one Handlebars template compiled once, producing the same page');
    console.log();
    const row = (name: string, r: LoadResult, page: string) => [
      name,
      r.responses,
      r.rps.toFixed(0),
      r.p99.toFixed(0),
      r.other,
      Buffer.byteLength(page),
      r.bytes.toFixed(0),
    ];
    printTable([
      ['target', 'requests', 'req/s', 'p99 ms', 'non-2xx/3xx', 'body bytes', 'bytes/response on the wire'],
      row('bare', bareResult, bareHtml),
      row('app', appResult, html),
    ]);
    console.log();
    const ratio = appResult.rps / bareResult.rps;
    console.log(verdict('target ratio >= 0.8', ratio >= 0.8));
    console.log(`ratio: ${ratio.toFixed(2)}`);
  } finally {
    for (const close of closers) await close();
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
