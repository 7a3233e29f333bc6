import path from 'node:path';
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
