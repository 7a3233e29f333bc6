import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { appRoot } from '../config';

export const languages = ['en', 'fr'] as const;
export type Lang = (typeof languages)[number];

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

const localesDir = path.join(appRoot, 'server', 'i18n', 'locales');

/**
 * All the text of one language: every server/i18n/locales/<lang>/*.json, one file per feature, each
 * holding its own top-level keys. A key defined by two files is a mistake, and refused.
 */
function loadLanguage(lang: Lang): Record<string, unknown> {
  const dir = path.join(localesDir, lang);
  const merged: Record<string, unknown> = {};
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const texts = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(texts)) {
      if (key in merged) throw new Error(`locales/${lang}/${file} redefines "${key}"`);
      merged[key] = value;
    }
  }
  return merged;
}

/** One i18next instance for the app, loaded synchronously at boot. */
export function createI18n(): i18n {
  const instance = i18next.createInstance();
  const resources = Object.fromEntries(languages.map((lang) => [lang, { translation: loadLanguage(lang) }]));
  void instance.init({
    resources,
    lng: 'en',
    fallbackLng: 'en',
    supportedLngs: [...languages],
    initAsync: false,
    // Handlebars escapes on output; escaping here too would double-escape.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}

export type Translate = TFunction;
