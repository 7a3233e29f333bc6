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

/** One i18next instance for the app, loaded synchronously from server/i18n/locales/<lang>.json. */
export function createI18n(): i18n {
  const instance = i18next.createInstance();
  const resources = Object.fromEntries(
    languages.map((lang) => [
      lang,
      { translation: JSON.parse(fs.readFileSync(path.join(localesDir, `${lang}.json`), 'utf8')) as object },
    ]),
  );
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
