import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import ipaddr from 'ipaddr.js';
import type { Config } from './configTypes';
import { dayMs } from './time/dates';

/** The project root: where views/, templates/ and db/ live, whether running from server/ or dist/server/. */
export const appRoot = (() => {
  const up = path.resolve(__dirname, '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
})();

export type { Config, RateLimitWindow, Synchronous } from './configTypes';

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * A list of email domains. An address there would never match a domain: it is refused, naming the
 * list it belongs in, rather than silently ignored. (`@example.org` and `*.example.org` are domains.)
 */
function domains(env: Env, name: string, addressesName: string): string[] {
  const entries = list(env[name]);
  const address = entries.find((entry) => entry.replace(/^[*@.]+/, '').includes('@'));
  if (address) {
    throw new ConfigError(
      `${name} holds the address "${address}": list whole addresses in ${addressesName}, and domains in ${name}.`,
    );
  }
  return entries;
}

/** A list of whole email addresses; a domain there is refused, naming the list it belongs in. */
function addresses(env: Env, name: string, domainsName: string): string[] {
  const entries = list(env[name]);
  const notAddress = entries.find((entry) => !/^[^@\s]+@[^@\s]+$/.test(entry));
  if (notAddress !== undefined) {
    throw new ConfigError(
      `${name} holds "${notAddress}", which is not an email address: list whole addresses in ${name}, ` +
        `and domains (each with its subdomains) in ${domainsName}.`,
    );
  }
  return entries;
}

/**
 * EMBED_ORIGINS: the sites that may frame the embed pages (/embed/*), for CSP `frame-ancestors`.
 * Comma-separated origins (`https://partner.example`, `https://*.partner.example`), or `*`, the
 * default: any site. Our own origin may always (the console's preview).
 */
function embedOrigins(given: string | undefined): string[] {
  const entries = (given ?? '*')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.find((e) => e !== '*' && !/^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i.test(e));
  if (bad !== undefined) {
    throw new ConfigError(
      `EMBED_ORIGINS holds "${bad}", which is not an origin: list origins such as https://partner.example ` +
        '(no path, no trailing slash), comma-separated, or * for any site.',
    );
  }
  return entries.length === 0 || entries.includes('*') ? ['*'] : entries;
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Why a TRUST_PROXY entry (an address, a CIDR range or a name) cannot be used, or undefined when it can. */
function proxyEntryProblem(entry: string): string | undefined {
  if (proxyNames.has(entry)) return undefined;
  const [address = '', bits, ...rest] = entry.split('/');
  // Only the usual notations: ipaddr.js would also read "1" as 0.0.0.1.
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  if (rest.length || !(v4 || (ipaddr.IPv6.isValid(address) && !address.includes('%')))) {
    return `"${entry}" is not an address, a CIDR range or one of loopback, linklocal, uniquelocal`;
  }
  if (bits === undefined) return undefined;
  const max = v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${entry}" has a prefix length outside 0–${max}`;
  // A proxy sits at known addresses: a range wider than 10.0.0.0/8 (or an IPv6 /16) is nearer to
  // trusting every client, as 0.0.0.0/1 and 128.0.0.0/1 together would.
  if (Number(bits) < (v4 ? 8 : 16)) {
    return `"${entry}" covers so many addresses that clients could write their own (the widest accepted is /${v4 ? 8 : 16})`;
  }
  return undefined;
}

/**
 * A hop count, or the proxies' addresses and ranges, checked here: Express would otherwise fail at
 * start with a stack trace, or read a stray "1 " as the address 0.0.0.1.
 */
function trustProxy(given: string | undefined): false | number | string {
  const raw = (given ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  const instead =
    'Set the number of proxies in front of the server (TRUST_PROXY=1 for one reverse proxy), or their ' +
    'addresses or ranges (TRUST_PROXY=loopback, or 10.0.0.1,10.0.0.2, or 10.0.0.0/8).';
  // Express would then take the leftmost X-Forwarded-For entry, which the client writes: anyone
  // could pick their own rate-limit bucket (SECURITY 3).
  if (raw === 'true') {
    throw new ConfigError(
      'TRUST_PROXY=true would trust every X-Forwarded-For entry, including those the client writes, so anyone ' +
        `could choose the address the rate limits count. ${instead}`,
    );
  }
  if (/^\d+$/.test(raw)) {
    // More hops than any real chain of proxies would let a client's own entries count as a proxy's.
    if (Number(raw) > 5)
      throw new ConfigError(`TRUST_PROXY=${raw} is more proxies than any real setup has. ${instead}`);
    return Number(raw);
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = proxyEntryProblem(entry);
    if (problem) throw new ConfigError(`TRUST_PROXY: ${problem}. ${instead}`);
  }
  return entries.join(',');
}

/** In development the secret is generated once and kept under the data folder, so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}

/**
 * Fills gaps in the environment from a `.env` file in the folder the process starts in (the project
 * folder under `npm run`), so that the server and every command-line tool share one configuration.
 * A variable already set in the environment, even to "", wins over the file.
 */
export function loadEnvFile(file = path.resolve('.env'), env: Env = process.env): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // The parser behind process.loadEnvFile (Node.js 20.12+), used directly so the file never overrides.
  if (typeof util.parseEnv !== 'function') {
    throw new ConfigError(`Reading ${file} needs Node.js 20.12 or later (this is ${process.version}).`);
  }
  for (const [name, value] of Object.entries(util.parseEnv(text))) {
    if (env[name] === undefined && value !== undefined) env[name] = value;
  }
}

/**
 * The only reader of the environment. Fails fast, with a reason, on values production cannot run
 * without. Called without an argument it reads process.env, with `.env` filling its gaps.
 */
export function loadConfig(given?: Env): Config {
  let env = given;
  if (!env) {
    loadEnvFile();
    env = process.env;
  }
  const mode = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const port = int(env, 'PORT', 3000);
  const host = env.HOST || '0.0.0.0';
  const baseUrl = (env.BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`BASE_URL must be an absolute URL such as https://undersigned.example, got "${baseUrl}"`);
  }
  const databasePath = path.resolve(appRoot, env.DATABASE_PATH || 'data/undersigned.db');
  const dataDir = path.resolve(appRoot, env.DATA_DIR || 'data');
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new ConfigError(
      `SMTP_URL must start with smtp:// or smtps://, got "${smtpUrl.replace(/\/\/[^@]*@/, '//…@')}"`,
    );
  }
  let secret = env.SECRET;
  if (!secret) {
    if (mode === 'production') {
      throw new ConfigError(
        'SECRET is required when NODE_ENV=production: it signs CSRF tokens and hashes IP addresses. ' +
          "Generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\"",
      );
    }
    secret = developmentSecret(dataDir);
  } else if (mode === 'production' && secret.length < 32) {
    throw new ConfigError('SECRET must be at least 32 characters long in production.');
  }
  const mailCapture = env.MAIL_CAPTURE ?? '';
  if (!['', 'true', 'false'].includes(mailCapture)) {
    throw new ConfigError(`MAIL_CAPTURE must be true or false, got "${mailCapture}"`);
  }
  // Captured mail is never delivered: a production server must be told so, or every digest to the
  // delegations would be written to a file and counted as sent.
  if (mode === 'production' && !smtpUrl && mailCapture !== 'true') {
    throw new ConfigError(
      'SMTP_URL is required when NODE_ENV=production (e.g. smtp://user:pass@smtp.example.org:587). ' +
        'To run without a relay, keeping every mail as a file under DATA_DIR/mail and delivering none, set MAIL_CAPTURE=true.',
    );
  }
  // The port is no guide to the public address, and a command-line tool cannot know the server's:
  // links in mail would point at localhost.
  if (mode === 'production' && !env.BASE_URL) {
    throw new ConfigError(
      'BASE_URL is required when NODE_ENV=production: it is the public address used in every link in mail, ' +
        'by the server and by the command-line tools alike (e.g. BASE_URL=https://undersigned.example).',
    );
  }
  const synchronous = (env.SQLITE_SYNCHRONOUS || 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new ConfigError(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${synchronous}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/undersigned, got "${databaseUrl.replace(/\/\/[^@]*@/, '//…@')}"`,
    );
  }
  const webConcurrency = int(env, 'WEB_CONCURRENCY', 1);
  if (!Number.isInteger(webConcurrency) || webConcurrency < 1 || webConcurrency > 64) {
    throw new ConfigError(`WEB_CONCURRENCY must be a whole number from 1 to 64, got "${env.WEB_CONCURRENCY}"`);
  }
  const countRefreshSeconds = int(env, 'COUNT_REFRESH_SECONDS', 10);
  if (!Number.isInteger(countRefreshSeconds) || countRefreshSeconds < 1) {
    throw new ConfigError(
      `COUNT_REFRESH_SECONDS must be a whole number of seconds, at least 1, got "${env.COUNT_REFRESH_SECONDS}"`,
    );
  }
  const host_ = new URL(baseUrl).hostname;
  return {
    env: mode,
    port,
    host,
    baseUrl,
    databasePath,
    databaseUrl,
    databasePoolMax: Math.max(1, int(env, 'DATABASE_POOL_MAX', 10)),
    webConcurrency,
    shared: databaseUrl || webConcurrency > 1 ? { countRefreshMs: countRefreshSeconds * 1000 } : undefined,
    countRefreshSeconds,
    synchronous,
    dataDir,
    smtpUrl,
    mailDir: path.join(dataDir, 'mail'),
    mailFrom: env.MAIL_FROM || `Undersigned <no-reply@${host_ === 'localhost' ? 'undersigned.localhost' : host_}>`,
    secret,
    trustProxy: trustProxy(env.TRUST_PROXY),
    logLevel: env.LOG_LEVEL || (mode === 'test' ? 'silent' : 'info'),
    metricsToken: env.METRICS_TOKEN || undefined,
    embedOrigins: embedOrigins(env.EMBED_ORIGINS),
    signing: {
      // Defaults from the issue: more than 5 in 60 s or 20 in 300 s from one IP for one petition.
      rateLimits: [
        { max: int(env, 'SIGN_LIMIT_PER_MINUTE', 5), seconds: 60 },
        { max: int(env, 'SIGN_LIMIT_PER_5_MINUTES', 20), seconds: 300 },
      ],
      allowedIpRanges: list(env.ALLOWED_IP_RANGES),
      blockedIpRanges: list(env.BLOCKED_IP_RANGES),
      allowedEmailDomains: domains(env, 'ALLOWED_EMAIL_DOMAINS', 'ALLOWED_EMAILS'),
      blockedEmailDomains: domains(env, 'BLOCKED_EMAIL_DOMAINS', 'BLOCKED_EMAILS'),
      allowedEmails: addresses(env, 'ALLOWED_EMAILS', 'ALLOWED_EMAIL_DOMAINS'),
      blockedEmails: addresses(env, 'BLOCKED_EMAILS', 'BLOCKED_EMAIL_DOMAINS'),
      maxMailsPerSignature: 5,
      mailWindowMs: dayMs,
      tokenTtlDays: int(env, 'CONFIRMATION_TTL_DAYS', 30),
    },
    delivery: {
      inServer: env.DELIVERY_IN_SERVER !== 'false',
      intervalMs: int(env, 'DELIVERY_INTERVAL_MS', 60_000),
      // Defaults from the issue: a digest per 100 new signatures, or daily, whichever comes first.
      size: Math.max(1, int(env, 'DIGEST_SIZE', 100)),
      maxWaitMs: int(env, 'DIGEST_HOURS', 24) * 60 * 60 * 1000,
      maxPerDigest: Math.max(1, int(env, 'DIGEST_MAX', 10_000)),
    },
    updates: { perMinute: Math.max(1, int(env, 'UPDATES_PER_MINUTE', 600)) },
    outbox: {
      pollMs: int(env, 'OUTBOX_POLL_MS', 1000),
      batchSize: 50,
      leaseMs: int(env, 'OUTBOX_LEASE_MS', 60_000),
      maxAttempts: int(env, 'OUTBOX_MAX_ATTEMPTS', 8),
      backoffBaseMs: int(env, 'OUTBOX_BACKOFF_MS', 30_000),
      backoffCapMs: 6 * 60 * 60 * 1000,
    },
    admin: {
      sessionIdleMs: int(env, 'ADMIN_IDLE_MINUTES', 30) * 60_000,
      sessionAbsoluteMs: int(env, 'ADMIN_SESSION_HOURS', 12) * 3_600_000,
      maxFailedLogins: 5,
      lockoutMs: 15 * 60_000,
      maxFailedLoginsPerClient: 10,
      clientWindowMs: 15 * 60_000,
    },
    retention: {
      daysAfterClose: int(env, 'RETENTION_DAYS', 365),
      mailDays: int(env, 'OUTBOX_RETENTION_DAYS', 30),
      letterDays: int(env, 'LETTER_RETENTION_DAYS', 365),
      intervalMs: 60 * 60 * 1000,
    },
    letters: {
      holdThreshold: int(env, 'LETTER_HOLD_THRESHOLD', 5),
      similarity: 0.8,
      pendingTtlDays: 7,
      // Per IP per demand, like the petition's limits.
      rateLimits: [
        { max: int(env, 'LETTER_LIMIT_PER_MINUTE', 5), seconds: 60 },
        { max: int(env, 'LETTER_LIMIT_PER_5_MINUTES', 20), seconds: 300 },
      ],
      maxMailsPerLetter: 5,
      sweepMs: 60 * 60 * 1000,
    },
  };
}

/**
 * For the entry points (the server, the worker, every command-line tool): the configuration, or the
 * reason it cannot be had handed to `fail`, which ends the process. Other errors are not ours to hide.
 */
export function loadConfigOr(fail: (message: string) => never): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}
