/**
 * npm run bench:page — the real petition page (50 confirmed public signatures) against a bare Express
 * route rendering a precompiled Handlebars template of the same size, under the same load in the same
 * run: once at rest (the app serves prepared bytes), and once while signatures are being confirmed
 * (each one invalidates the page, which is then read and rendered again). Last line:
 * `ratio: <app req/s / bare req/s>`, at rest.
 *
 * `npm run bench:page -- --behind-nginx` adds a round through Debian's nginx, started on loopback with
 * deploy/nginx.conf's proxy and micro-cache settings, against the same nginx serving a static file
 * of the page's bytes; its last line is then `ratio: <proxied req/s / static req/s>` (target ≥ 0.8).
 */
import Handlebars from 'handlebars';
import express from 'express';
import path from 'node:path';
import { signToken } from '../server/security/tokens';
import { startNginx } from './nginx';
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
/** Confirmations a second during the second round: 3,000 a minute, twice the UK petitions site's 2019 peak. */
const confirmationsPerSecond = 50;
const firstNames = ['Ada', 'Björn', 'Chiara', 'Dorota', 'Elif', 'Femke', 'Gaspard', 'Hanna', 'Ioana', 'Jonas'];
const countries = ['FR', 'DE', 'GB', 'IT', 'ES', 'PL', 'NL', 'BE', 'PT', 'NO', 'RO', 'CZ'];

/** Pending signatures' confirmation tokens, as their mails carry them. */
function pendingTokens(app: RunningApp): string[] {
  const { db, config } = app.services;
  return db
    .prepare<[], { id: number; createdAt: number }>(
      "SELECT id, created_at AS createdAt FROM signatures WHERE state = 'pending' ORDER BY id",
    )
    .all()
    .map(({ id, createdAt }) => signToken(config.secret, 'confirm', id, createdAt));
}

/** `count` signatures, signed (not confirmed) through the services, each from an address of its own. */
async function signMany(app: RunningApp, count: number, from: number): Promise<void> {
  const { signatures, petitions } = app.services;
  const petition = (await petitions.findPetition(slug, 'en'))!;
  for (let i = from; i < from + count; i++) {
    const values = {
      name: `${firstNames[i % firstNames.length]} Example`,
      email: `seed${i}@example.org`,
      country: countries[i % countries.length]!,
      postcode: '',
      showPublicly: true,
      updates: i % 2 === 0,
    };
    // One address each, as real signers would have: a single one would trip the rate limit.
    await signatures.sign(petition, values, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'en');
  }
}

/** 50 public signatures, signed and confirmed, so the page lists signers and countries. */
async function seed(app: RunningApp): Promise<void> {
  await signMany(app, 50, 1);
  for (const token of pendingTokens(app)) {
    if ((await app.services.signatures.confirm(token)).status !== 'validated') throw new Error('not confirmed');
  }
  // Signatures to confirm during the second round; their mails go out now, not while measuring.
  await signMany(app, confirmationsPerSecond * (measureSeconds + 4), 51);
  await app.services.sender.idle();
}

/** Confirms the pending signatures, `confirmationsPerSecond` of them a second, until stopped. */
function confirmWhileMeasuring(app: RunningApp) {
  const tokens = pendingTokens(app);
  let confirmed = 0;
  let stopped = false;
  const started = Date.now();
  const done = (async () => {
    while (!stopped && confirmed < tokens.length) {
      await app.services.signatures.confirm(tokens[confirmed++]!);
      const due = started + (confirmed * 1000) / confirmationsPerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return confirmed / ((Date.now() - started) / 1000);
    },
  };
}

/**
 * The floor: Express 5 sending a page rendered by a Handlebars template compiled once. The template
 * is the app's own page, with its title turned back into a variable, so both answers carry the same
 * bytes.
 */
async function startBare(html: string, title: string) {
  const source = html.replaceAll('{{', '\\{{').replaceAll(Handlebars.escapeExpression(title), '{{title}}');
  const template = Handlebars.create().compile(source);
  const app = express();
  app.get('/page', (_req, res) => {
    res.type('html').send(template({ title }));
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
    const confirming = confirmWhileMeasuring(app);
    const busyResult = await measure(appUrl);
    const confirmedPerSecond = await confirming.stop();
    const busyHtml = await (await fetch(appUrl)).text();

    console.log(`GET /petitions/${slug}, 50 connections, ${measureSeconds} s each after a 2 s warm-up`);
    console.log('app:  the real page with 50 confirmed public signatures (recent signers, country counts)');
    console.log(
      `app while confirming: the same, while ${confirmedPerSecond.toFixed(0)} signatures a second are confirmed ` +
        '(each one invalidates the page: read and rendered again)',
    );
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
      row('app while confirming', busyResult, busyHtml),
    ]);
    console.log();
    const ratio = appResult.rps / bareResult.rps;
    const busyRatio = busyResult.rps / bareResult.rps;
    console.log(`ratio while confirming: ${busyRatio.toFixed(2)}`);
    console.log(verdict('target ratio >= 1.2', ratio >= 1.2));
    if (!process.argv.includes('--behind-nginx')) {
      console.log(`ratio: ${ratio.toFixed(2)}`);
      return;
    }
    console.log(`ratio at rest: ${ratio.toFixed(2)}`);

    // The round behind nginx: the proxied page (micro-cached for 1 s) against a static file of its bytes.
    const nginx = await startNginx({
      dir: path.join(dir.path, 'nginx'),
      appPort: Number(new URL(app.url).port),
      staticBody: html,
    });
    closers.unshift(nginx.close);
    const staticResult = await measure(nginx.staticUrl);
    const proxiedUrl = nginx.proxied(`/petitions/${slug}`);
    const proxiedResult = await measure(proxiedUrl);
    const proxiedHtml = await (await fetch(proxiedUrl)).text();
    console.log();
    console.log('behind nginx (deploy/nginx.conf without TLS, 1 worker): the page proxied and micro-cached,');
    console.log('against the same nginx serving a static file of the same bytes');
    printTable([
      ['target', 'requests', 'req/s', 'p99 ms', 'non-2xx/3xx', 'body bytes', 'bytes/response on the wire'],
      row('nginx static file', staticResult, html),
      row('nginx → app', proxiedResult, proxiedHtml),
    ]);
    const nginxRatio = proxiedResult.rps / staticResult.rps;
    console.log(verdict('target ratio behind nginx >= 0.8', nginxRatio >= 0.8));
    console.log(`ratio: ${nginxRatio.toFixed(2)}`);
  } finally {
    for (const close of closers) await close();
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
