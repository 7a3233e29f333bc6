import fs from 'node:fs';
import path from 'node:path';

const dir = path.join(__dirname, '..', '..', 'server', 'i18n', 'locales');

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function load(lang: string): Record<string, unknown> {
  return Object.assign(
    {},
    ...fs.readdirSync(path.join(dir, lang)).map((f) => JSON.parse(fs.readFileSync(path.join(dir, lang, f), 'utf8'))),
  );
}

describe('locale files', () => {
  const en = load('en');
  const fr = load('fr');

  it('French has every English key, and no other', () => {
    // French has a third plural form ("many", from a million up), which English does not.
    const frKeys = keys(fr).filter((k) => !k.endsWith('_many'));
    expect(frKeys.sort()).toEqual(keys(en).sort());
  });

  it('French has a "many" form wherever it has an "other" form', () => {
    const frKeys = new Set(keys(fr));
    const missing = [...frKeys].filter((k) => k.endsWith('_other') && !frKeys.has(k.replace(/_other$/, '_many')));
    expect(missing).toEqual([]);
  });

  it('French keeps every {{placeholder}} of the English text', () => {
    const get = (o: unknown, key: string) => key.split('.').reduce((v, k) => (v as Record<string, unknown>)[k], o);
    for (const key of keys(en)) {
      const placeholders = (s: unknown) => (String(s).match(/{{\s*\w+\s*}}/g) ?? []).sort();
      expect([key, placeholders(get(fr, key))]).toEqual([key, placeholders(get(en, key))]);
    }
  });
});
