import path from 'node:path';
import express from 'express';
import { ConfigError, loadConfig, loadEnvFile } from '../../server/config';

describe('loadConfig', () => {
  it('refuses to start in production without a SECRET, and says why', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET is required/);
  });

  it('refuses a short production secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET: 'short' })).toThrow(/at least 32/);
  });

  it('refuses to start in production without SMTP_URL unless mail capture is asked for', () => {
    const production = { NODE_ENV: 'production', SECRET: 'x'.repeat(40), BASE_URL: 'https://sign.example' };
    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(/SMTP_URL is required.*MAIL_CAPTURE=true/);
    expect(() => loadConfig({ ...production, MAIL_CAPTURE: 'false' })).toThrow(/SMTP_URL is required/);
    expect(loadConfig({ ...production, MAIL_CAPTURE: 'true' }).smtpUrl).toBeUndefined();
    expect(loadConfig({ ...production, SMTP_URL: 'smtp://mail.example:587' }).smtpUrl).toBe('smtp://mail.example:587');
    expect(() => loadConfig({ ...production, MAIL_CAPTURE: 'yes' })).toThrow(/MAIL_CAPTURE must be true or false/);
    // In development, capturing is the default.
    expect(loadConfig({ SECRET: 's' }).smtpUrl).toBeUndefined();
  });

  it('refuses to start in production without BASE_URL: links in mail would point at localhost', () => {
    const production = { NODE_ENV: 'production', SECRET: 'x'.repeat(40), SMTP_URL: 'smtp://mail.example:587' };
    expect(() => loadConfig(production)).toThrow(/BASE_URL is required/);
    expect(loadConfig({ ...production, BASE_URL: 'https://sign.example' }).baseUrl).toBe('https://sign.example');
    expect(loadConfig({ SECRET: 's', PORT: '4000' }).baseUrl).toBe('http://localhost:4000');
  });

  it('reads the documented variables', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SECRET: 'x'.repeat(40),
      PORT: '8080',
      BASE_URL: 'https://sign.example/',
      DATABASE_PATH: '/var/lib/undersigned/db.sqlite',
      SMTP_URL: 'smtp://user:pass@mail.example:587',
      MAIL_FROM: 'Undersigned <hello@sign.example>',
      TRUST_PROXY: '1',
    });
    expect(config).toMatchObject({
      port: 8080,
      baseUrl: 'https://sign.example',
      databasePath: '/var/lib/undersigned/db.sqlite',
      smtpUrl: 'smtp://user:pass@mail.example:587',
      mailFrom: 'Undersigned <hello@sign.example>',
      trustProxy: 1,
      synchronous: 'FULL',
    });
  });

  it('refuses TRUST_PROXY=true, and names what to set instead', () => {
    for (const value of ['true', 'TRUE', ' True ']) {
      expect(() => loadConfig({ SECRET: 's', TRUST_PROXY: value })).toThrow(ConfigError);
      expect(() => loadConfig({ SECRET: 's', TRUST_PROXY: value })).toThrow(/TRUST_PROXY=1.*loopback/);
    }
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
    expect(loadConfig({ SECRET: 's' }).trustProxy).toBe(false);
  });

  it('trims TRUST_PROXY: "1 " is one hop, not the address 0.0.0.1', () => {
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: '1 ' }).trustProxy).toBe(1);
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: ' 2\n' }).trustProxy).toBe(2);
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: ' Loopback , 10.0.0.1 ' }).trustProxy).toBe('loopback,10.0.0.1');
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: ' false ' }).trustProxy).toBe(false);
    expect(loadConfig({ SECRET: 's', TRUST_PROXY: '0' }).trustProxy).toBe(false);
  });

  it.each([
    ['yes', /"yes" is not an address/],
    ['garbage', /"garbage" is not an address/],
    ['1.5', /"1.5" is not an address/],
    ['-1', /"-1" is not an address/],
    ['1 2', /"1 2" is not an address/],
    ['10.0.0', /"10.0.0" is not an address/],
    ['loopback,,10.0.0.1', /"" is not an address/],
    ['10.0.0.1/33', /prefix length outside 0–32/],
    ['10.0.0.0/8/8', /is not an address/],
    ['2001:db8::/129', /prefix length outside 0–128/],
    ['0.0.0.0/0', /covers so many addresses/],
    ['::/0', /covers so many addresses/],
    // Two halves that together cover every address, and a hop count no real chain of proxies has.
    ['0.0.0.0/1,128.0.0.0/1', /"0.0.0.0\/1" covers so many addresses/],
    ['2000::/3', /covers so many addresses/],
    ['100', /more proxies than any real setup has/],
  ])('refuses TRUST_PROXY=%j with a ConfigError that says what to set', (value, reason) => {
    const load = () => loadConfig({ SECRET: 's', TRUST_PROXY: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(reason);
    expect(load).toThrow(/TRUST_PROXY=1 for one reverse proxy/);
  });

  it.each([
    ['1', 1],
    ['loopback', 'loopback'],
    ['linklocal,uniquelocal', 'linklocal,uniquelocal'],
    ['10.0.0.1, 10.0.0.2', '10.0.0.1,10.0.0.2'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['2001:db8::/32,::1', '2001:db8::/32,::1'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
  ])('accepts TRUST_PROXY=%j, and Express takes what it becomes', (value, expected) => {
    const { trustProxy } = loadConfig({ SECRET: 's', TRUST_PROXY: value });
    expect(trustProxy).toBe(expected);
    expect(() => express().set('trust proxy', trustProxy)).not.toThrow();
  });

  it('reads blocked and allowed addresses apart from domains', () => {
    const { signing } = loadConfig({
      SECRET: 's',
      BLOCKED_EMAILS: 'Spammer@Gmail.com, bot@example.org',
      ALLOWED_EMAILS: 'press@example.org',
      BLOCKED_EMAIL_DOMAINS: 'mailinator.com,@spam.example,*.junk.example',
    });
    expect(signing).toMatchObject({
      blockedEmails: ['spammer@gmail.com', 'bot@example.org'],
      allowedEmails: ['press@example.org'],
      blockedEmailDomains: ['mailinator.com', '@spam.example', '*.junk.example'],
      allowedEmailDomains: [],
    });
  });

  it.each([
    [
      'BLOCKED_EMAIL_DOMAINS',
      'mailinator.com,bot@example.org',
      /"bot@example.org": list whole addresses in BLOCKED_EMAILS/,
    ],
    ['ALLOWED_EMAIL_DOMAINS', 'press@example.org', /"press@example.org": list whole addresses in ALLOWED_EMAILS/],
    ['BLOCKED_EMAILS', 'mailinator.com', /"mailinator.com", which is not an email address.*BLOCKED_EMAIL_DOMAINS/],
    ['ALLOWED_EMAILS', '@uni.example', /"@uni.example", which is not an email address.*ALLOWED_EMAIL_DOMAINS/],
  ])('refuses %s=%j rather than ignore an entry of the wrong kind', (name, value, message) => {
    expect(() => loadConfig({ SECRET: 's', [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ SECRET: 's', [name]: value })).toThrow(message);
  });

  it('rejects malformed values with a message naming the variable', () => {
    expect(() => loadConfig({ SECRET: 's', PORT: 'abc' })).toThrow(/PORT/);
    expect(() => loadConfig({ SECRET: 's', BASE_URL: 'not a url' })).toThrow(/BASE_URL/);
    expect(() => loadConfig({ SECRET: 's', SMTP_URL: 'mail.example' })).toThrow(/SMTP_URL/);
  });

  it('changes no default when .env.example is copied to .env: BASE_URL still follows PORT', () => {
    const example = path.join(__dirname, '..', '..', '.env.example');
    const fromFile = { SECRET: 's', PORT: '4102' };
    loadEnvFile(example, fromFile);
    expect(loadConfig(fromFile)).toEqual(loadConfig({ SECRET: 's', PORT: '4102' }));
    expect(loadConfig(fromFile)).toMatchObject({ port: 4102, baseUrl: 'http://localhost:4102' });
  });
});
