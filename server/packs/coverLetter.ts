import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { appRoot } from '../config';
import { languages, type Lang } from '../i18n/i18n';

/** What the cover letter of a pack may say; counts arrive formatted, as phrases in the pack's language. */
export interface CoverFields {
  petitionTitle: string;
  /** The delegation's country, in the pack's language. */
  country: string;
  hasSignatures: boolean;
  /** "1,234 people" */
  signatures: string;
  /** "5,678 signatures" */
  runningTotal: string;
  /** "5,678" */
  runningTotalNumber: string;
  firstDate: string;
  lastDate: string;
  hasLetters: boolean;
  oneLetter: boolean;
  /** "3 letters" */
  letters: string;
  sourceAuthor: string;
  sourceTitle: string;
  sourcePublication: string;
}

export type CoverLetter = (lang: Lang, fields: CoverFields) => string;

/**
 * templates/packs/cover.<lang>.hbs, compiled once, as plain text (no HTML escaping: the PDF shows
 * text as it is). Every field must be given (strict), so a misspelt field fails in tests, not on paper.
 */
export function loadCoverLetter(dir = path.join(appRoot, 'templates', 'packs')): CoverLetter {
  const hbs = Handlebars.create();
  const templates = new Map(
    languages.map((lang) => [
      lang,
      hbs.compile<CoverFields>(fs.readFileSync(path.join(dir, `cover.${lang}.hbs`), 'utf8'), {
        noEscape: true,
        strict: true,
        knownHelpersOnly: true,
      }),
    ]),
  );
  return (lang, fields) =>
    templates.get(lang)!(fields)
      .replace(/[ \t]+$/gm, '')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
}
