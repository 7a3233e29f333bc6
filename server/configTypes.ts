/** What the app is configured with: config.ts reads it from the environment and checks it. */

export type Synchronous = 'FULL' | 'NORMAL';

export interface RateLimitWindow {
  /** More than `max` signatures from one IP for one petition within `seconds` marks it fraudulent. */
  max: number;
  seconds: number;
}

export interface Config {
  env: 'production' | 'development' | 'test';
  port: number;
  host: string;
  baseUrl: string;
  databasePath: string;
  /** PostgreSQL instead of the SQLite file at databasePath, when DATABASE_URL is set. */
  databaseUrl: string | undefined;
  /** Connections each process keeps open to PostgreSQL at most (DATABASE_POOL_MAX). */
  databasePoolMax: number;
  /** How many web processes `npm start` runs (node:cluster); 1 runs the server in this process. */
  webConcurrency: number;
  /**
   * When other processes write to the same database (WEB_CONCURRENCY > 1, or PostgreSQL): rate
   * windows are counted in the database, and a cached page may be this old.
   */
  shared: { countRefreshMs: number } | undefined;
  /**
   * COUNT_REFRESH_SECONDS: how long a public page may be kept, by this server (with other processes
   * on the database) and by browsers, proxies and CDNs (`Cache-Control: max-age`).
   */
  countRefreshSeconds: number;
  synchronous: Synchronous;
  dataDir: string;
  smtpUrl: string | undefined;
  mailDir: string;
  mailFrom: string;
  secret: string;
  /** A hop count or the proxies' addresses, never `true`. */
  trustProxy: false | number | string;
  logLevel: string;
  /** Lets /metrics be scraped from another machine (`Authorization: Bearer <token>`); loopback needs none. */
  metricsToken: string | undefined;
  /** EMBED_ORIGINS: who may frame /embed/* (CSP frame-ancestors); `['*']` for any site. */
  embedOrigins: string[];
  signing: {
    rateLimits: RateLimitWindow[];
    allowedIpRanges: string[];
    blockedIpRanges: string[];
    /** Domains, each with its subdomains. */
    allowedEmailDomains: string[];
    blockedEmailDomains: string[];
    /** Whole addresses, matched by canonical email. */
    allowedEmails: string[];
    blockedEmails: string[];
    /** At most this many mails per signature in a window of `mailWindowMs` from the first. */
    maxMailsPerSignature: number;
    mailWindowMs: number;
    tokenTtlDays: number;
  };
  delivery: {
    /** Run the digest scheduler inside the server (off when a separate `npm run deliver` does it). */
    inServer: boolean;
    intervalMs: number;
    size: number;
    maxWaitMs: number;
    maxPerDigest: number;
  };
  updates: {
    /** UPDATES_PER_MINUTE: campaign update mails allowed to leave per minute. */
    perMinute: number;
  };
  outbox: {
    pollMs: number;
    batchSize: number;
    leaseMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffCapMs: number;
  };
  admin: {
    /** A console session ends after this long without a request (the cookie's rolling max-age)… */
    sessionIdleMs: number;
    /** …and at the latest this long after login, however active. */
    sessionAbsoluteMs: number;
    /** Failed logins in a row before an account is locked, and for how long (SECURITY 6). */
    maxFailedLogins: number;
    lockoutMs: number;
    /**
     * Failed logins from one client address (an IPv6 /64) within the window, past which the login form
     * answers 429 and checks and records nothing: no one can fill the audit log from outside.
     */
    maxFailedLoginsPerClient: number;
    clientWindowMs: number;
  };
  retention: {
    /** Signatures are anonymised this many days after their petition closes. */
    daysAfterClose: number;
    /** Mail to people is deleted this many days after it was sent or given up on (digests are kept). */
    mailDays: number;
    /** Letters are anonymised this many days after they reached a final state (sent, expired, …). */
    letterDays: number;
    intervalMs: number;
  };
  letters: {
    /** A letter whose own words are near-duplicates of this many others (same demand, 7 days) is held. */
    holdThreshold: number;
    /** Jaccard similarity of word shingles from which two letters count as near-duplicates. */
    similarity: number;
    /** Unconfirmed letters expire after this many days. */
    pendingTtlDays: number;
    rateLimits: RateLimitWindow[];
    maxMailsPerLetter: number;
    /** How often the server expires stale pending letters. */
    sweepMs: number;
  };
}
