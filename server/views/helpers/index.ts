import type Handlebars from 'handlebars';
import type { i18n } from 'i18next';
import { countryName } from './countryName';
import { eq } from './eq';
import { formatDay } from './formatDay';
import { formatNumber } from './formatNumber';
import { formatTime } from './formatTime';
import { paragraphs } from './paragraphs';
import { t } from './t';

/** Each helper lives in its own file, named as templates call it. */
export function registerHelpers(hbs: typeof Handlebars, i18n: i18n): void {
  hbs.registerHelper('t', t(i18n));
  hbs.registerHelper('countryName', countryName);
  hbs.registerHelper('eq', eq);
  hbs.registerHelper('formatDay', formatDay);
  hbs.registerHelper('formatNumber', formatNumber);
  hbs.registerHelper('formatTime', formatTime);
  hbs.registerHelper('paragraphs', paragraphs(hbs));
}
