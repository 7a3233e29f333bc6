import type Handlebars from 'handlebars';
import { displayCountry } from '../../campaign/countries';
import { langOf } from './lang';

/** `{{countryName "FR"}}`: the country's name in the page's language. */
export function countryName(code: string, options: Handlebars.HelperOptions): string {
  return displayCountry(code, langOf(options));
}
